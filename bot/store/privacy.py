"""Deletion, forgetting, retention, opt-outs and /mydata.

Removing a text means: the post row keeps only a tombstone (ids and times, text NULL, deleted=1, so a re-delivered
event cannot store it again) and every row holding a copy of the words is scrubbed in the same transaction:
the verdict's quote and reason, the review payload (pending review deleted, decided one emptied), cached
counterpoints made for that post or whose claim text matches it. `secure_delete=ON` zeroes the freed bytes, and a
WAL checkpoint afterwards moves the zeroed pages into the file so no old copy stays in the WAL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.store.base import Row, StoreBase, normalize
from bot.store.posts import is_opted_out, mark_stale

# a shorter text (e.g. "yes") would match half the cache; cached claims are whole sentences
_MIN_MATCH = 12


async def scrub_copies(db: aiosqlite.Connection, platform: str, post_id: str, text: str | None) -> None:
    await db.execute(
        "UPDATE verdicts SET quote = '', reason = '' WHERE platform = ? AND post_id = ?", (platform, post_id)
    )
    await db.execute(
        "DELETE FROM reviews WHERE platform = ? AND post_id = ? AND status = 'pending'", (platform, post_id)
    )
    await db.execute("UPDATE reviews SET payload = '{}' WHERE platform = ? AND post_id = ?", (platform, post_id))
    await db.execute("DELETE FROM cp_cache WHERE platform = ? AND post_id = ?", (platform, post_id))
    norm = normalize(text)
    if len(norm) >= _MIN_MATCH:
        await db.execute(
            "DELETE FROM cp_cache WHERE length(cp_norm(claim_text)) >= ? "
            "AND (instr(?, cp_norm(claim_text)) > 0 OR instr(cp_norm(claim_text), ?) > 0)",
            (_MIN_MATCH, norm, norm),
        )


async def _delete_one(db: aiosqlite.Connection, platform: str, post_id: str) -> tuple[bool, bool]:
    """(a stored post was tombstoned, it still had text)."""
    rows = list(
        await db.execute_fetchall(
            "SELECT thread_id, created_at, text FROM posts WHERE platform = ? AND post_id = ? AND deleted = 0",
            (platform, post_id),
        )
    )
    old_text = rows[0]["text"] if rows else None
    # copies can exist without a stored post (e.g. a verdict recorded first): scrub by reference anyway
    await scrub_copies(db, platform, post_id, old_text)
    if not rows:
        return False, False
    key = (platform, post_id)
    await db.execute("UPDATE posts SET deleted = 1, text = NULL WHERE platform = ? AND post_id = ?", key)
    await mark_stale(db, platform, rows[0]["thread_id"], rows[0]["created_at"])
    return True, old_text is not None


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[str, ...]) -> Row:
    return next(iter(await db.execute_fetchall(sql, params)))


class PrivacyMixin(StoreBase):
    async def delete_post(self, platform: str, post_id: str) -> bool:
        """Remove a post's text and every copy of it for good; True if a stored text was removed. A summary covering
        the post is marked stale."""
        return await self.delete_posts(platform, [post_id]) == 1

    async def delete_posts(self, platform: str, post_ids: Iterable[str]) -> int:
        """delete_post for many posts (a bulk delete) in one transaction and one checkpoint; returns texts removed."""
        removed, touched = 0, False
        async with self._write() as db:
            for post_id in post_ids:
                found, had_text = await _delete_one(db, platform, post_id)
                touched, removed = touched or found, removed + had_text
        if touched:
            await self.checkpoint()
        return removed

    async def forget_author(self, platform: str, author_id: str) -> int:
        """Erase everything stored about a person on a platform: their posts' texts and name (tombstones stay so
        their posts are not stored again if re-delivered), every copy of those texts, summaries of threads they
        wrote in (summaries paraphrase them), their votes. Their opt-out, if any, is kept. Returns posts erased."""
        async with self._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT post_id, thread_id, text FROM posts WHERE platform = ? AND author_id = ?",
                    (platform, author_id),
                )
            )
            for row in rows:
                await scrub_copies(db, platform, row["post_id"], row["text"])
            for thread_id in {row["thread_id"] for row in rows}:
                await db.execute("DELETE FROM summaries WHERE platform = ? AND thread_id = ?", (platform, thread_id))
            await db.execute(
                "UPDATE posts SET text = NULL, author_name = NULL, author_id = '', deleted = 1 "
                "WHERE platform = ? AND author_id = ?",
                (platform, author_id),
            )
            votes = await db.execute("DELETE FROM votes WHERE platform = ? AND user_id = ?", (platform, author_id))
        if rows or votes.rowcount:
            await self.checkpoint()
        return len(rows)

    async def purge_text_older_than(self, days: int) -> int:
        """Retention: drop texts (and their copies) of posts created more than `days` days ago; verdicts, counts and
        tombstones stay. `days <= 0` keeps everything (storage.retention_days = 0). Returns posts purged."""
        if days <= 0:
            return 0
        cutoff = self._ago(days)
        async with self._write() as db:
            cur = await db.execute("UPDATE posts SET text = NULL WHERE created_at < ? AND text IS NOT NULL", (cutoff,))
            purged = cur.rowcount
            await db.execute(
                """UPDATE verdicts SET quote = '', reason = ''
                   WHERE (quote != '' OR reason != '') AND (recorded_at < ? OR EXISTS (
                       SELECT 1 FROM posts p WHERE p.platform = verdicts.platform AND p.post_id = verdicts.post_id
                         AND p.text IS NULL))""",
                (cutoff,),
            )
            await db.execute("DELETE FROM reviews WHERE status = 'pending' AND created_at < ?", (cutoff,))
            await db.execute("UPDATE reviews SET payload = '{}' WHERE created_at < ? AND payload != '{}'", (cutoff,))
            await db.execute("DELETE FROM cp_cache WHERE created_at < ?", (cutoff,))
            await db.execute("DELETE FROM summaries WHERE updated_at < ?", (cutoff,))
        await self.checkpoint()
        return purged

    async def opt_out(self, platform: str, user_id: str) -> bool:
        """True if newly opted out. Their future posts are not stored, replied to or cached."""
        async with self._write() as db:
            cur = await db.execute(
                "INSERT INTO optouts (platform, user_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (platform, user_id, self._now()),
            )
            return cur.rowcount == 1

    async def opt_in(self, platform: str, user_id: str) -> bool:
        async with self._write() as db:
            cur = await db.execute("DELETE FROM optouts WHERE platform = ? AND user_id = ?", (platform, user_id))
            return cur.rowcount == 1

    async def is_opted_out(self, platform: str, user_id: str) -> bool:
        async with self._read() as db:
            return await is_opted_out(db, platform, user_id)

    async def author_data(self, platform: str, author_id: str) -> dict[str, Any]:
        """What is stored about a person (for /mydata): counts, names, and every stored text with its verdict."""
        async with self._read(snapshot=True) as db:
            posts = list(
                await db.execute_fetchall(
                    """SELECT p.post_id, p.thread_id, p.created_at, p.edited_at, p.text, p.author_name,
                              v.label, v.quote
                       FROM posts p LEFT JOIN verdicts v ON v.platform = p.platform AND v.post_id = p.post_id
                       WHERE p.platform = ? AND p.author_id = ? AND p.deleted = 0 ORDER BY p.created_at""",
                    (platform, author_id),
                )
            )
            counts = await _one(
                db,
                """SELECT
                         (SELECT COUNT(*) FROM replies r JOIN posts p USING (platform, post_id)
                           WHERE p.platform = ?1 AND p.author_id = ?2) AS replies,
                         (SELECT COUNT(*) FROM reviews r JOIN posts p USING (platform, post_id)
                           WHERE p.platform = ?1 AND p.author_id = ?2) AS reviews,
                         (SELECT COUNT(*) FROM votes WHERE platform = ?1 AND user_id = ?2) AS votes""",
                (platform, author_id),
            )
            opted_out = await is_opted_out(db, platform, author_id)
        return {
            "platform": platform,
            "author_id": author_id,
            "opted_out": opted_out,
            "names": sorted({r["author_name"] for r in posts if r["author_name"]}),
            "posts": len(posts),
            "texts": [
                {
                    "post_id": r["post_id"],
                    "thread_id": r["thread_id"],
                    "created_at": r["created_at"],
                    "edited_at": r["edited_at"],
                    "text": r["text"],
                    "verdict": r["label"],
                    "quote": r["quote"] or "",
                }
                for r in posts
                if r["text"] is not None
            ],
            "verdicts": sum(1 for r in posts if r["label"]),
            "replies_to_them": int(counts["replies"]),
            "reviews": int(counts["reviews"]),
            "votes": int(counts["votes"]),
        }
