"""Deletion, forgetting, retention, opt-outs and /mydata.

Removing a text means: the post row keeps only a tombstone (ids and times, text NULL, deleted=1, so a re-delivered
event cannot store it again) and every row holding a copy of the words is scrubbed in the same transaction:
the verdict's quote and reason, the review payload (pending review deleted, decided one emptied), cached
counterpoints made for that post or whose claim text matches it. `secure_delete=ON` zeroes the freed bytes, and a
WAL checkpoint afterwards moves the zeroed pages into the file so no old copy stays in the WAL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.store.base import Row, StoreBase, Tx, db_time, normalize
from bot.store.posts import is_opted_out, mark_stale
from bot.text import jsonsafe

# a shorter text (e.g. "yes") would match half the cache; cached claims are whole sentences
_MIN_MATCH = 12


async def scrub_copies(db: Tx, platform: str, post_id: str) -> None:
    """Every copy held by reference to the post (cached claims matching its text: scrub_cached_claims)."""
    await db.execute(
        "UPDATE verdicts SET quote = '', reason = '' WHERE platform = $1 AND post_id = $2", platform, post_id
    )
    await db.execute(
        "DELETE FROM reviews WHERE platform = $1 AND post_id = $2 AND status = 'pending'", platform, post_id
    )
    await db.execute("UPDATE reviews SET payload = '{}' WHERE platform = $1 AND post_id = $2", platform, post_id)
    await db.execute("DELETE FROM cp_cache WHERE platform = $1 AND post_id = $2", platform, post_id)
    await db.execute("DELETE FROM review_posts WHERE platform = $1 AND post_id = $2", platform, post_id)
    await db.execute("DELETE FROM review_posts WHERE review_id NOT IN (SELECT id FROM reviews)")
    await db.execute("DELETE FROM bot_messages WHERE post_platform = $1 AND post_id = $2", platform, post_id)


async def scrub_edited(db: Tx, platform: str, post_id: str, *, old: str | None, new: str) -> None:
    """A post's text changed: copies of the old words go (verdict quote and reason, cached counterpoints made for
    it or matching it), and review payloads carry the new text, so a moderator approves what the post says now."""
    await db.execute(
        "UPDATE verdicts SET quote = '', reason = '' WHERE platform = $1 AND post_id = $2", platform, post_id
    )
    await db.execute("DELETE FROM cp_cache WHERE platform = $1 AND post_id = $2", platform, post_id)
    await scrub_cached_claims(db, [old])
    for row in await db.fetch(
        "SELECT id, payload FROM reviews WHERE platform = $1 AND post_id = $2", platform, post_id
    ):
        try:
            payload = jsonsafe.loads(row["payload"])
        except ValueError:
            payload = {}
        if isinstance(payload, dict) and payload:
            payload["text"] = new
            payload.pop("verdict", None)  # its quote was the old text
            await db.execute("UPDATE reviews SET payload = $1 WHERE id = $2", json.dumps(payload), row["id"])


_SHINGLE = 6  # words: a run this long of someone's words inside another text is a quote of them


def _shingles(texts: Iterable[str | None]) -> set[str]:
    out: set[str] = set()
    for text in texts:
        norm = normalize(text)
        words = norm.split()
        if len(words) < _SHINGLE:
            if len(norm) >= _MIN_MATCH:
                out.add(norm)
            continue
        out.update(" ".join(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1))
    return out


def _quotes(field: str | None, shingles: set[str]) -> bool:
    norm = normalize(field)
    return bool(norm) and any(s in norm for s in shingles)


async def scrub_quotes(db: Tx, texts: Iterable[str | None]) -> None:
    """Rows about OTHER posts that quote these texts: a stored reply's text is emptied, a verdict's quote and
    reason emptied, a pending review deleted and a decided one's payload emptied. Matched in Python (six-word runs,
    or the whole of a short text), so both backends follow the same rule."""
    shingles = _shingles(texts)
    if not shingles:
        return
    for row in await db.fetch("SELECT platform, post_id, text FROM replies WHERE text IS NOT NULL AND text != ''"):
        if _quotes(row["text"], shingles):
            await db.execute(
                "UPDATE replies SET text = '' WHERE platform = $1 AND post_id = $2", row["platform"], row["post_id"]
            )
    for row in await db.fetch(
        "SELECT platform, post_id, quote, reason FROM verdicts WHERE quote != '' OR reason != ''"
    ):
        if _quotes(row["quote"], shingles) or _quotes(row["reason"], shingles):
            await db.execute(
                "UPDATE verdicts SET quote = '', reason = '' WHERE platform = $1 AND post_id = $2",
                row["platform"],
                row["post_id"],
            )
    for row in await db.fetch("SELECT id, status, payload FROM reviews WHERE payload != '{}'"):
        if _quotes(row["payload"], shingles):
            if row["status"] == "pending":
                await db.execute("DELETE FROM review_posts WHERE review_id = $1", row["id"])
                await db.execute("DELETE FROM reviews WHERE id = $1", row["id"])
            else:
                await db.execute("UPDATE reviews SET payload = '{}' WHERE id = $1", row["id"])


async def scrub_cached_claims(db: Tx, texts: Iterable[str | None]) -> None:
    """Delete cached counterpoints whose claim text contains one of the texts or is contained in it (ignoring case
    and spacing). Compared here in Python rather than in SQL, so both backends match by the very same rule."""
    wanted = [n for n in (normalize(t) for t in texts) if len(n) >= _MIN_MATCH]
    if not wanted:
        return
    for row in await db.fetch("SELECT claim_key, claim_text FROM cp_cache"):
        claim = normalize(row["claim_text"])
        if len(claim) >= _MIN_MATCH and any(claim in text or text in claim for text in wanted):
            await db.execute("DELETE FROM cp_cache WHERE claim_key = $1", row["claim_key"])


async def _delete_one(db: Tx, platform: str, post_id: str) -> tuple[bool, str | None]:
    """(a stored post was tombstoned, the text it still had)."""
    rows = await db.fetch(
        "SELECT thread_id, created_at, text FROM posts WHERE platform = $1 AND post_id = $2 AND deleted = 0",
        platform,
        post_id,
    )
    # copies can exist without a stored post (e.g. a verdict recorded first): scrub by reference anyway
    await scrub_copies(db, platform, post_id)
    if not rows:
        return False, None
    await db.execute(
        "UPDATE posts SET deleted = 1, text = NULL WHERE platform = $1 AND post_id = $2", platform, post_id
    )
    await mark_stale(db, platform, rows[0]["thread_id"], rows[0]["created_at"])
    return True, rows[0]["text"]


async def _one(db: Tx, sql: str, *args: str) -> Row:
    return (await db.fetch(sql, *args))[0]


class PrivacyMixin(StoreBase):
    async def edit_post(self, platform: str, post_id: str, text: str, *, edited_at: datetime | None = None) -> bool:
        """Replace a stored post's text; True if it changed. Marks a summary covering the post stale, and no copy of
        the old text stays: the verdict's quote and reason are emptied, review payloads carry the new text, cached
        counterpoints made for the post (or matching the old text) are dropped. Here, not beside add_post:
        scrubbing the old words is this module's work."""
        when = db_time(edited_at) if edited_at else self._now()
        async with self._write() as db:
            before = await db.fetch("SELECT text FROM posts WHERE platform = $1 AND post_id = $2", platform, post_id)
            # `text != $1` after `text IS NOT NULL` (rather than IS DISTINCT FROM, which SQLite < 3.39 lacks)
            rows = await db.fetch(
                "UPDATE posts SET text = $1, edited_at = $2 "
                "WHERE platform = $3 AND post_id = $4 AND deleted = 0 AND text IS NOT NULL AND text != $1 "
                "RETURNING thread_id, created_at",
                text,
                when,
                platform,
                post_id,
            )
            if not rows:
                return False
            await mark_stale(db, platform, rows[0]["thread_id"], rows[0]["created_at"])
            await scrub_edited(db, platform, post_id, old=before[0]["text"] if before else None, new=text)
            return True

    async def delete_post(self, platform: str, post_id: str) -> bool:
        """Remove a post's text and every copy of it for good; True if a stored text was removed. A summary covering
        the post is marked stale."""
        return await self.delete_posts(platform, [post_id]) == 1

    async def delete_posts(self, platform: str, post_ids: Iterable[str]) -> int:
        """delete_post for many posts (a bulk delete) in one transaction and one checkpoint; returns texts removed."""
        texts: list[str | None] = []  # one per tombstoned post: the text it had
        async with self._write() as db:
            for post_id in post_ids:
                found, text = await _delete_one(db, platform, post_id)
                if found:
                    texts.append(text)
            await scrub_cached_claims(db, texts)
        removed = sum(1 for text in texts if text is not None)
        if texts:
            await self.checkpoint()
        return removed

    async def forget_author(self, platform: str, author_id: str) -> int:
        """Erase everything stored about a person on a platform: their posts' texts and name (tombstones stay so
        their posts are not stored again if re-delivered), every copy of those texts (also stored replies, verdict
        quotes and review payloads of other posts that quote them), summaries of threads they wrote in (summaries
        paraphrase them), their votes and their rate-limit counts. Their opt-out, if any, is kept. Returns posts
        erased. The bot's own Discord messages quoting them: bot_messages_of_author, read BEFORE this call."""
        async with self._write() as db:
            rows = await db.fetch(
                "SELECT post_id, thread_id, text FROM posts WHERE platform = $1 AND author_id = $2", platform, author_id
            )
            for row in rows:
                await scrub_copies(db, platform, row["post_id"])
            await scrub_cached_claims(db, (row["text"] for row in rows))
            # replies, verdicts and review items about other posts that quote this person's words
            await scrub_quotes(db, (row["text"] for row in rows))
            await db.execute("DELETE FROM rate_events WHERE subject = $1", f"{platform}:{author_id}")
            for thread_id in {row["thread_id"] for row in rows}:
                await db.execute("DELETE FROM summaries WHERE platform = $1 AND thread_id = $2", platform, thread_id)
            await db.execute(
                "UPDATE posts SET text = NULL, author_name = NULL, author_id = '', deleted = 1 "
                "WHERE platform = $1 AND author_id = $2",
                platform,
                author_id,
            )
            votes = await db.execute("DELETE FROM votes WHERE platform = $1 AND user_id = $2", platform, author_id)
        if rows or votes:
            await self.checkpoint()
        return len(rows)

    async def purge_text_older_than(self, days: int) -> int:
        """Retention: drop texts (and their copies) of posts created more than `days` days ago; verdicts, counts and
        tombstones stay. `days <= 0` keeps everything (storage.retention_days = 0). Returns posts purged."""
        if days <= 0:
            return 0
        cutoff = self._ago(days)
        async with self._write() as db:
            purged = await db.execute("UPDATE posts SET text = NULL WHERE created_at < $1 AND text IS NOT NULL", cutoff)
            await db.execute(
                """UPDATE verdicts SET quote = '', reason = ''
                   WHERE (quote != '' OR reason != '') AND (recorded_at < $1 OR EXISTS (
                       SELECT 1 FROM posts p WHERE p.platform = verdicts.platform AND p.post_id = verdicts.post_id
                         AND p.text IS NULL))""",
                cutoff,
            )
            await db.execute("DELETE FROM reviews WHERE status = 'pending' AND created_at < $1", cutoff)
            await db.execute("UPDATE reviews SET payload = '{}' WHERE created_at < $1 AND payload != '{}'", cutoff)
            await db.execute("DELETE FROM cp_cache WHERE created_at < $1", cutoff)
            await db.execute("DELETE FROM summaries WHERE updated_at < $1", cutoff)
        await self.checkpoint()
        return purged

    async def opt_out(self, platform: str, user_id: str) -> bool:
        """True if newly opted out. Their future posts are not stored, replied to or cached."""
        async with self._write() as db:
            added = await db.execute(
                "INSERT INTO optouts (platform, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                platform,
                user_id,
                self._now(),
            )
            return added == 1

    async def opt_in(self, platform: str, user_id: str) -> bool:
        async with self._write() as db:
            return await db.execute("DELETE FROM optouts WHERE platform = $1 AND user_id = $2", platform, user_id) == 1

    async def is_opted_out(self, platform: str, user_id: str) -> bool:
        async with self._read() as db:
            return await is_opted_out(db, platform, user_id)

    async def author_data(self, platform: str, author_id: str) -> dict[str, Any]:
        """What is stored about a person (for /mydata): counts, names, and every stored text with its verdict."""
        async with self._read(snapshot=True) as db:
            posts = await db.fetch(
                """SELECT p.post_id, p.thread_id, p.created_at, p.edited_at, p.text, p.author_name, v.label, v.quote
                   FROM posts p LEFT JOIN verdicts v ON v.platform = p.platform AND v.post_id = p.post_id
                   WHERE p.platform = $1 AND p.author_id = $2 AND p.deleted = 0 ORDER BY p.created_at""",
                platform,
                author_id,
            )
            counts = await _one(
                db,
                """SELECT
                         (SELECT COUNT(*) FROM replies r JOIN posts p USING (platform, post_id)
                           WHERE p.platform = $1 AND p.author_id = $2) AS replies,
                         (SELECT COUNT(*) FROM reviews r JOIN posts p USING (platform, post_id)
                           WHERE p.platform = $1 AND p.author_id = $2) AS reviews,
                         (SELECT COUNT(*) FROM votes WHERE platform = $1 AND user_id = $2) AS votes""",
                platform,
                author_id,
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
