"""Counts for moderators' stats and the digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.base import StoreBase, db_time, py_time

_GUILD_POST = "(CAST($2 AS TEXT) IS NULL OR p.guild_id = $2)"

_STATS_SQL = f"""
SELECT
  (SELECT COUNT(*) FROM posts p WHERE p.created_at >= $1 AND {_GUILD_POST}) AS posts,
  (SELECT COUNT(*) FROM verdicts v LEFT JOIN posts p USING (platform, post_id)
     WHERE v.label = 'frames' AND v.recorded_at >= $1 AND {_GUILD_POST}) AS detections,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'sent' AND r.kind = 'reply' AND r.sent_at >= $1
     AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS replies,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'sent' AND r.kind != 'reply' AND r.sent_at >= $1
     AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS other_sent,
  (SELECT COUNT(*) FROM replies r WHERE r.dismissed_at >= $1
     AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS dismissed,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'pending' AND r.claimed_at >= $1
     AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS pending_claims,
  (SELECT COUNT(CASE WHEN v.value = 1 THEN 1 END) FROM votes v
     LEFT JOIN replies r ON r.platform = v.platform AND r.reply_id = v.reply_id
     WHERE v.updated_at >= $1 AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS votes_up,
  (SELECT COUNT(CASE WHEN v.value = -1 THEN 1 END) FROM votes v
     LEFT JOIN replies r ON r.platform = v.platform AND r.reply_id = v.reply_id
     WHERE v.updated_at >= $1 AND (CAST($2 AS TEXT) IS NULL OR r.guild_id = $2)) AS votes_down,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'approved' AND rv.decided_at >= $1 AND {_GUILD_POST}) AS approved,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'rejected' AND rv.decided_at >= $1 AND {_GUILD_POST}) AS rejected,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'pending' AND rv.created_at >= $1 AND {_GUILD_POST}) AS pending_reviews
"""


class StatsMixin(StoreBase):
    async def stats(self, *, since: datetime | None = None, guild_id: str | None = None) -> dict[str, int | float]:
        """Counts since a time (default: ever), optionally for one guild.

        posts: posts stored (tombstones included); detections: verdicts labelled "frames"; replies: public replies
        sent; other_sent: shadow/queue messages sent; dismissed: sent replies a moderator took down (counted when
        dismissed); pending_claims: claims never confirmed; votes_up/votes_down;
        approved/rejected/pending_reviews: the review queue; precision: approved / (approved + rejected), 0.0
        while nothing was reviewed; vote_share: votes_up / all votes, 0.0 without votes.
        """
        row = await self._one(_STATS_SQL, db_time(since) if since else "", guild_id)
        out: dict[str, int | float] = {k: int(v) for k, v in dict(row).items()} if row else {}
        reviewed = int(out.get("approved", 0)) + int(out.get("rejected", 0))
        voted = int(out.get("votes_up", 0)) + int(out.get("votes_down", 0))
        out["precision"] = out["approved"] / reviewed if reviewed else 0.0
        out["vote_share"] = out["votes_up"] / voted if voted else 0.0
        return out


_DETECTIONS_SQL = """
SELECT v.platform, v.post_id, COALESCE(p.thread_id, '') AS thread_id, COALESCE(p.channel_id, '') AS channel_id,
  COALESCE(p.guild_id, '') AS guild_id, p.author_name, NULLIF(p.text, '') AS text, COALESCE(v.quote, '') AS quote,
  v.label, v.score, v.engine, v.recorded_at, r.kind AS reply_kind, r.status AS reply_status, r.reply_id,
  r.dismissed_at, rv.status AS review_status,
  (SELECT COUNT(*) FROM votes x WHERE x.platform = v.platform AND x.reply_id = r.reply_id AND x.value = 1)
    AS votes_up,
  (SELECT COUNT(*) FROM votes x WHERE x.platform = v.platform AND x.reply_id = r.reply_id AND x.value = -1)
    AS votes_down
FROM verdicts v
LEFT JOIN posts p USING (platform, post_id)
LEFT JOIN replies r USING (platform, post_id)
LEFT JOIN reviews rv USING (platform, post_id)
WHERE v.label = 'frames' AND v.recorded_at >= $1 AND v.recorded_at < $2
  AND (CAST($3 AS TEXT) IS NULL OR p.guild_id = $3)
ORDER BY v.recorded_at DESC LIMIT $4
"""


class DetectionsMixin(StoreBase):
    async def framing_detections(
        self, since: datetime, until: datetime, *, guild_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Verdicts labelled frames in [since, until), newest first, with what the bot did about each.

        `text` is None when the post was deleted, purged or its author opted out: never a copy of removed text.
        """
        out = []
        for row in await self._rows(_DETECTIONS_SQL, db_time(since), db_time(until), guild_id, limit):
            item = dict(row)
            item["recorded_at"] = py_time(item["recorded_at"])
            item["dismissed_at"] = py_time(item["dismissed_at"])
            item["votes_up"], item["votes_down"] = int(item["votes_up"]), int(item["votes_down"])
            out.append(item)
        return out
