"""Per-guild/channel settings, watched channels, stream checkpoints and the moderators' review queue."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from bot.errors import StoreError
from bot.models import ReviewItem
from bot.store.base import Row, StoreBase, py_time
from bot.store.posts import post_withheld
from bot.text import jsonsafe

Decision = Literal["approved", "rejected"]


def _review(row: Row) -> ReviewItem:
    try:
        payload = jsonsafe.loads(row["payload"])
    except ValueError as exc:
        raise StoreError(f"Review {row['id']} has an unreadable payload ({exc}).") from exc
    return ReviewItem(
        id=int(row["id"]),
        platform=row["platform"],
        post_id=row["post_id"],
        status=row["status"],
        created_at=datetime.fromisoformat(row["created_at"]),
        payload=payload if isinstance(payload, dict) else {},
        moderator=row["moderator"],
        decided_at=py_time(row["decided_at"]),
        thread_id=row["thread_id"],
        scope=row["scope"],
        author_id=row["author_id"],
    )


class AdminMixin(StoreBase):
    async def get_channel_config(self, guild_id: str, channel_id: str) -> dict[str, str]:
        """Guild-wide values (channel_id "") overlaid with the channel's own."""
        rows = await self._rows(
            "SELECT key, value FROM channel_config WHERE guild_id = $1 AND channel_id IN ('', $2) "
            "ORDER BY channel_id != ''",
            guild_id,
            channel_id,
        )
        return {r["key"]: r["value"] for r in rows}

    async def set_channel_config(self, guild_id: str, channel_id: str, key: str, value: str | None) -> None:
        """Set one key (channel_id "" = guild-wide); value None removes it."""
        async with self._write() as db:
            if value is None:
                await db.execute(
                    "DELETE FROM channel_config WHERE guild_id = $1 AND channel_id = $2 AND key = $3",
                    guild_id,
                    channel_id,
                    key,
                )
                return
            await db.execute(
                "INSERT INTO channel_config (guild_id, channel_id, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (guild_id, channel_id, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                guild_id,
                channel_id,
                key,
                value,
                self._now(),
            )

    async def watch_add(self, guild_id: str, channel_id: str) -> bool:
        async with self._write() as db:
            added = await db.execute(
                "INSERT INTO watched (guild_id, channel_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                guild_id,
                channel_id,
                self._now(),
            )
            return added == 1

    async def reopen_review(self, review_id: int) -> bool:
        """An approved item whose reply could not be posted goes back to pending, so a moderator can retry it."""
        async with self._write() as db:
            reopened = await db.execute(
                "UPDATE reviews SET status = 'pending', moderator = NULL, decided_at = NULL "
                "WHERE id = $1 AND status = 'approved'",
                review_id,
            )
            return reopened == 1

    async def watch_remove(self, guild_id: str, channel_id: str) -> bool:
        async with self._write() as db:
            removed = await db.execute(
                "DELETE FROM watched WHERE guild_id = $1 AND channel_id = $2", guild_id, channel_id
            )
            return removed == 1

    async def watched(self, guild_id: str | None = None) -> list[tuple[str, str]]:
        """(guild_id, channel_id) pairs, of one guild or of all."""
        rows = await self._rows(
            "SELECT guild_id, channel_id FROM watched WHERE CAST($1 AS TEXT) IS NULL OR guild_id = $1 "
            "ORDER BY guild_id, channel_id",
            guild_id,
        )
        return [(r[0], r[1]) for r in rows]

    async def get_checkpoint(self, name: str) -> str | None:
        row = await self._one("SELECT value FROM checkpoints WHERE name = $1", name)
        return row[0] if row else None

    async def set_checkpoint(self, name: str, value: str) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO checkpoints (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE "
                "SET value = excluded.value, updated_at = excluded.updated_at",
                name,
                value,
                self._now(),
            )

    async def enqueue_review(
        self,
        platform: str,
        post_id: str,
        *,
        payload: dict[str, Any],
        thread_id: str | None = None,
        scope: str | None = None,
        author_id: str | None = None,
    ) -> int:
        """Queue a post for moderators; returns the review id. Idempotent per post (the existing id comes back).
        Returns 0 and stores nothing when the post was deleted or its author opted out. `thread_id` lets later
        posts of the thread merge into this item (merge_into_review); `scope` is the guild id or r/<sub>."""
        try:
            raw = json.dumps(payload)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"The review payload for {platform}/{post_id} is not JSON: {exc}.") from exc
        async with self._write() as db:
            if await post_withheld(db, platform, post_id):
                return 0
            # a no-op update (the conflict means platform is already this value) so RETURNING yields the old id
            rows = await db.fetch(
                "INSERT INTO reviews (platform, post_id, payload, status, created_at, thread_id, scope, author_id) "
                "VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7) ON CONFLICT (platform, post_id) DO UPDATE "
                "SET platform = excluded.platform RETURNING id",
                platform,
                post_id,
                raw,
                self._now(),
                thread_id,
                scope,
                author_id,
            )
            return int(rows[0][0])

    async def get_review(self, review_id: int) -> ReviewItem | None:
        row = await self._one("SELECT * FROM reviews WHERE id = $1", review_id)
        return _review(row) if row else None

    async def pending_reviews(self, limit: int = 50) -> list[ReviewItem]:
        """Oldest first."""
        rows = await self._rows("SELECT * FROM reviews WHERE status = 'pending' ORDER BY id LIMIT $1", limit)
        return [_review(r) for r in rows]

    async def decide_review(self, review_id: int, *, status: Decision, moderator: str) -> bool:
        """Approve or reject; exactly one moderator wins, False for everyone after (or an unknown id)."""
        if status not in ("approved", "rejected"):
            raise ValueError(f"a review decision is 'approved' or 'rejected', not {status!r}")
        async with self._write() as db:
            decided = await db.execute(
                "UPDATE reviews SET status = $1, moderator = $2, decided_at = $3 WHERE id = $4 AND status = 'pending'",
                status,
                moderator,
                self._now(),
                review_id,
            )
            return decided == 1
