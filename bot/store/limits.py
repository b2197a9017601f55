"""Hourly limits, merged review items, and the bot's own messages that quote posts.

Limits are a sliding-window counter over the store (`rate_events`, one row per counted event) rather than an
in-memory limiter (`limits`, `aiolimiter`): an hourly cap kept in memory starts from zero at every restart (a bot
restarted by a crash loop would never hit it), and is per process, while the counter here survives restarts and is
shared by every process on the same database. The cost is one small write transaction per counted event, which
is nothing next to a model call. `take_slot` counts and records in one transaction, so two callers cannot both
take the last slot (SQLite: one writer; PostgreSQL: see take_slot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.models import Post
from bot.store.base import StoreBase, db_time, py_time
from bot.store.posts import _POST_COLUMNS, post_withheld, row_to_post


class LimitsMixin(StoreBase):
    # --- the sliding-window counter -------------------------------------------------------------------------------
    async def take_slot(self, name: str, subject: str, *, limit: int, window_seconds: float) -> bool:
        """Count one event of `name` for `subject` if fewer than `limit` happened in the last `window_seconds`;
        True when counted (allowed), False when the limit is reached (nothing recorded). Older events of this
        subject are dropped on the way. On PostgreSQL two processes may both take the last slot at the same instant
        (READ COMMITTED); an advisory lock per subject would close that, at a cost no hourly cap needs."""
        if limit <= 0:
            return False
        now = self._clock()
        since = db_time(now - timedelta(seconds=window_seconds))
        async with self._write_small() as db:
            await db.execute(
                "DELETE FROM rate_events WHERE name = $1 AND subject = $2 AND at < $3", name, subject, since
            )
            rows = await db.fetch(
                "SELECT COUNT(*) FROM rate_events WHERE name = $1 AND subject = $2 AND at >= $3", name, subject, since
            )
            if int(rows[0][0]) >= limit:
                return False
            await db.execute(
                "INSERT INTO rate_events (name, subject, at) VALUES ($1, $2, $3)", name, subject, db_time(now)
            )
            return True

    async def slots_used(self, name: str, subject: str, *, window_seconds: float) -> int:
        since = db_time(self._clock() - timedelta(seconds=window_seconds))
        row = await self._one(
            "SELECT COUNT(*) FROM rate_events WHERE name = $1 AND subject = $2 AND at >= $3", name, subject, since
        )
        return int(row[0]) if row else 0

    async def purge_rate_events(self, older_than_seconds: float = 86400.0) -> int:
        """Housekeeping: events older than every window (a day by default)."""
        cutoff = db_time(self._clock() - timedelta(seconds=older_than_seconds))
        async with self._write() as db:
            return await db.execute("DELETE FROM rate_events WHERE at < $1", cutoff)

    # --- merged review items --------------------------------------------------------------------------------------
    async def merge_into_review(self, platform: str, thread_id: str, post_id: str, *, since: datetime) -> int:
        """Add a post to the newest pending review item of its thread created at or after `since`; the item's id,
        or 0 when there is none (or the post was deleted / its author opted out: nothing is stored)."""
        async with self._write() as db:
            if await post_withheld(db, platform, post_id):
                return 0
            rows = await db.fetch(
                "SELECT id, post_id FROM reviews WHERE platform = $1 AND thread_id = $2 AND status = 'pending' "
                "AND created_at >= $3 ORDER BY id DESC LIMIT 1",
                platform,
                thread_id,
                db_time(since),
            )
            if not rows:
                return 0
            review_id = int(rows[0]["id"])
            if rows[0]["post_id"] != post_id:
                await db.execute(
                    "INSERT INTO review_posts (review_id, platform, post_id, added_at) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT DO NOTHING",
                    review_id,
                    platform,
                    post_id,
                    self._now(),
                )
            return review_id

    async def review_posts(self, review_id: int) -> list[Post]:
        """The posts merged into an item besides its own, as they are NOW (edited text; deleted ones left out)."""
        rows = await self._rows(
            f"SELECT {', '.join('p.' + c.strip() for c in _POST_COLUMNS.split(','))} FROM review_posts rp "
            "JOIN posts p ON p.platform = rp.platform AND p.post_id = rp.post_id "
            "WHERE rp.review_id = $1 AND p.deleted = 0 AND p.text IS NOT NULL ORDER BY p.created_at, p.rowid",
            review_id,
        )
        return [row_to_post(r) for r in rows]

    async def reviews_of_post(self, platform: str, post_id: str, *, pending_only: bool = True) -> list[int]:
        """Ids of the review items holding a post, as their own post or merged into them."""
        rows = await self._rows(
            "SELECT id FROM reviews WHERE platform = $1 AND (post_id = $2 OR id IN "
            "(SELECT review_id FROM review_posts WHERE platform = $1 AND post_id = $2)) "
            "AND (status = 'pending' OR $3 = 0) ORDER BY id",
            platform,
            post_id,
            int(pending_only),
        )
        return [int(r[0]) for r in rows]

    # --- the bot's own messages that quote posts ------------------------------------------------------------------
    async def remember_bot_message(
        self,
        platform: str,
        message_id: str,
        channel_id: str,
        posts: Iterable[tuple[str, str]],
        *,
        kind: str,
        review_id: int | None = None,
    ) -> None:
        """The bot posted `message_id` (in `channel_id`), which quotes each (platform, post_id) of `posts`."""
        async with self._write() as db:
            for post_platform, post_id in posts:
                await db.execute(
                    "INSERT INTO bot_messages (platform, message_id, channel_id, post_platform, post_id, review_id, "
                    "kind, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    platform,
                    message_id,
                    channel_id,
                    post_platform,
                    post_id,
                    review_id,
                    kind,
                    self._now(),
                )

    async def bot_messages_of_review(self, review_id: int) -> list[dict[str, Any]]:
        rows = await self._rows(
            "SELECT DISTINCT platform, message_id, channel_id, kind, review_id FROM bot_messages "
            "WHERE review_id = $1 ORDER BY message_id",
            review_id,
        )
        return [dict(r) for r in rows]

    async def bot_messages_quoting(self, post_platform: str, post_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The bot's messages that quote any of these posts (one row per message)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        async with self._read() as db:
            for post_id in post_ids:
                for r in await db.fetch(
                    "SELECT platform, message_id, channel_id, kind, review_id, at FROM bot_messages "
                    "WHERE post_platform = $1 AND post_id = $2",
                    post_platform,
                    post_id,
                ):
                    found.setdefault((r["platform"], r["message_id"]), {**dict(r), "at": py_time(r["at"])})
        return list(found.values())

    async def bot_messages_of_author(self, platform: str, author_id: str) -> list[dict[str, Any]]:
        """The bot's messages quoting any stored post of this author (before forget_author erases the link)."""
        rows = await self._rows("SELECT post_id FROM posts WHERE platform = $1 AND author_id = $2", platform, author_id)
        return await self.bot_messages_quoting(platform, [r[0] for r in rows])

    async def forget_bot_messages(self, platform: str, message_ids: Iterable[str]) -> int:
        """The bot rewrote or deleted these messages: forget what they quoted."""
        gone = 0
        async with self._write() as db:
            for message_id in message_ids:
                gone += await db.execute(
                    "DELETE FROM bot_messages WHERE platform = $1 AND message_id = $2", platform, message_id
                )
        return gone
