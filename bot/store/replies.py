"""Exactly-once replies, their dismissal by moderators, and the votes on them.

A reply is claimed BEFORE it is sent: `claim_reply` inserts a 'pending' row keyed by (platform, post_id) and only
the one insert that lands returns True. After the platform accepted the message, `confirm_reply` marks it 'sent';
if sending failed for sure, `release_reply` deletes the claim so a later attempt may retry.

A 'pending' claim left behind by a crash (sent or not, we cannot know) stays claimed forever: nothing is ever
sent twice, even across restarts. We chose to be silent rather than to risk a double reply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import Citation
from bot.serialize import citation_to_dict
from bot.store.base import StoreBase, db_time, py_time
from bot.store.content import drop_cached
from bot.store.posts import post_withheld
from bot.text import jsonsafe

log = logging.getLogger(__name__)


class RepliesMixin(StoreBase):
    async def claim_reply(
        self, platform: str, post_id: str, *, thread_id: str, guild_id: str = "", kind: str = "reply"
    ) -> bool:
        """True for exactly one caller ever per post; False if already claimed or sent, or if the post was deleted
        or its author opted out since it was stored."""
        async with self._write_small() as db:
            if await post_withheld(db, platform, post_id):
                return False
            claimed = await db.execute(
                "INSERT INTO replies (platform, post_id, thread_id, guild_id, kind, status, claimed_at) "
                "VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (platform, post_id) DO NOTHING",
                platform,
                post_id,
                thread_id,
                guild_id,
                kind,
                self._now(),
            )
            return claimed == 1

    async def confirm_reply(
        self, platform: str, post_id: str, *, reply_id: str, text: str, citations: Sequence[Citation] = ()
    ) -> None:
        """Record that the reply was sent. Without a prior claim the row is created anyway (as sent), because a
        message that went out must block any further one."""
        cites = json.dumps([citation_to_dict(c) for c in citations])
        now = self._now()
        async with self._write() as db:
            updated = await db.execute(
                "UPDATE replies SET status = 'sent', reply_id = $1, text = $2, citations = $3, sent_at = $4 "
                "WHERE platform = $5 AND post_id = $6",
                reply_id,
                text,
                cites,
                now,
                platform,
                post_id,
            )
            if updated == 0:
                log.warning("reply to %s/%s confirmed without a claim; recording it as sent", platform, post_id)
                await db.execute(
                    "INSERT INTO replies (platform, post_id, thread_id, guild_id, kind, status, reply_id, text, "
                    "citations, claimed_at, sent_at) SELECT $1, $2, COALESCE(MAX(thread_id), ''), "
                    "COALESCE(MAX(guild_id), ''), 'reply', 'sent', $3, $4, $5, $6, $6 "
                    "FROM posts WHERE platform = $1 AND post_id = $2",
                    platform,
                    post_id,
                    reply_id,
                    text,
                    cites,
                    now,
                )

    async def release_reply(self, platform: str, post_id: str) -> bool:
        """Drop a pending claim after a send that surely failed; a sent reply is never released."""
        async with self._write() as db:
            released = await db.execute(
                "DELETE FROM replies WHERE platform = $1 AND post_id = $2 AND status = 'pending'", platform, post_id
            )
            return released == 1

    async def get_reply(self, platform: str, post_id: str) -> dict[str, Any] | None:
        row = await self._one("SELECT * FROM replies WHERE platform = $1 AND post_id = $2", platform, post_id)
        if row is None:
            return None
        data = dict(row)
        data["citations"] = jsonsafe.loads(row["citations"]) if row["citations"] else []
        data["claimed_at"] = py_time(row["claimed_at"])
        data["sent_at"] = py_time(row["sent_at"])
        data["dismissed_at"] = py_time(row["dismissed_at"])
        return data

    async def dismiss_reply(self, platform: str, post_id: str, *, reply_id: str, moderator: str, reason: str) -> bool:
        """A moderator took a sent reply down: record when, who and why. True the first time; False when no sent
        reply matches or it was dismissed already (the first record is kept). `post_id` may be "" when the
        reply no longer says which post it answered: `reply_id` alone then finds it."""
        async with self._write() as db:
            dismissed = await db.execute(
                "UPDATE replies SET dismissed_at = $1, dismissed_by = $2, dismiss_reason = $3 "
                "WHERE platform = $4 AND reply_id = $5 AND ($6 = '' OR post_id = $6) AND status = 'sent' "
                "AND dismissed_at IS NULL",
                self._now(),
                moderator,
                reason,
                platform,
                reply_id,
                post_id,
            )
            if dismissed:  # a moderator took it down: it must not come back as a repeated-claim answer
                await drop_cached(db, platform, reply_id)
            return dismissed > 0

    async def last_reply_at(self, platform: str, thread_id: str, *, kind: str | None = None) -> datetime | None:
        """When the latest reply in a thread was claimed (pending claims count: they may have been sent)."""
        row = await self._one(
            "SELECT MAX(claimed_at) FROM replies WHERE platform = $1 AND thread_id = $2 "
            "AND (CAST($3 AS TEXT) IS NULL OR kind = $3)",
            platform,
            thread_id,
            kind,
        )
        return py_time(row[0]) if row else None

    async def replies_since(self, platform: str, guild_id: str, since: datetime, *, kind: str | None = None) -> int:
        """Replies claimed (pending or sent) in a guild since a time, for the hourly cap."""
        row = await self._one(
            "SELECT COUNT(*) FROM replies WHERE platform = $1 AND guild_id = $2 AND claimed_at >= $3 "
            "AND (CAST($4 AS TEXT) IS NULL OR kind = $4)",
            platform,
            guild_id,
            db_time(since),
            kind,
        )
        return int(row[0]) if row else 0

    async def vote(self, platform: str, reply_id: str, user_id: str, value: int) -> None:
        """One vote per user per reply: +1 or -1 (a later vote replaces the earlier), 0 withdraws it."""
        if value not in (-1, 0, 1):
            raise ValueError(f"a vote is +1, -1 or 0, not {value!r}")
        async with self._write() as db:
            if value == 0:
                await db.execute(
                    "DELETE FROM votes WHERE platform = $1 AND reply_id = $2 AND user_id = $3",
                    platform,
                    reply_id,
                    user_id,
                )
                return
            await db.execute(
                "INSERT INTO votes (platform, reply_id, user_id, value, updated_at) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (platform, reply_id, user_id) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                platform,
                reply_id,
                user_id,
                value,
                self._now(),
            )
            net = await db.fetch(
                "SELECT COALESCE(SUM(value), 0) AS net FROM votes WHERE platform = $1 AND reply_id = $2",
                platform,
                reply_id,
            )
            if int(net[0]["net"]) < 0:  # readers found it unhelpful: answer the next repeat afresh
                await drop_cached(db, platform, reply_id)

    async def votes_for(self, platform: str, reply_id: str) -> tuple[int, int]:
        """(up, down) for one reply."""
        row = await self._one(
            "SELECT COUNT(CASE WHEN value = 1 THEN 1 END), COUNT(CASE WHEN value = -1 THEN 1 END) FROM votes "
            "WHERE platform = $1 AND reply_id = $2",
            platform,
            reply_id,
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def reply_feedback(self, platform: str, guild_id: str, since: datetime) -> list[ReplyFeedback]:
        """What people said about the bot's sent replies in one server since `since`: the ids the reply cited,
        its votes and whether a moderator dismissed it (bot/counterpoint/feedback.py turns this into weights)."""
        rows = await self._rows(_FEEDBACK_SQL, platform, guild_id, db_time(since))
        out = []
        for row in rows:
            try:
                cited = tuple(str(c["id"]) for c in jsonsafe.loads(row["citations"] or "[]"))
            except (ValueError, TypeError, KeyError):
                log.warning("reply %s: unreadable citations; left out of the feedback", row["reply_id"])
                continue
            out.append(
                ReplyFeedback(cited, int(row["votes_up"]), int(row["votes_down"]), row["dismissed_at"] is not None)
            )
        return out


@dataclass(frozen=True, slots=True)
class ReplyFeedback:
    cited: tuple[str, ...]  # source ids, in citation order
    helpful: int
    not_helpful: int
    dismissed: bool


_FEEDBACK_SQL = """
SELECT r.reply_id, r.citations, r.dismissed_at,
  (SELECT COUNT(*) FROM votes v WHERE v.platform = r.platform AND v.reply_id = r.reply_id AND v.value = 1)
    AS votes_up,
  (SELECT COUNT(*) FROM votes v WHERE v.platform = r.platform AND v.reply_id = r.reply_id AND v.value = -1)
    AS votes_down
FROM replies r
WHERE r.platform = $1 AND r.guild_id = $2 AND r.status = 'sent' AND r.reply_id IS NOT NULL AND r.sent_at >= $3
ORDER BY r.sent_at
"""
