"""Counts for moderators' stats and the digest."""

from __future__ import annotations

from datetime import datetime

from bot.store.base import StoreBase, db_time

_GUILD_POST = "(:g IS NULL OR p.guild_id = :g)"

_STATS_SQL = f"""
SELECT
  (SELECT COUNT(*) FROM posts p WHERE p.created_at >= :since AND {_GUILD_POST}) AS posts,
  (SELECT COUNT(*) FROM verdicts v LEFT JOIN posts p USING (platform, post_id)
     WHERE v.label = 'frames' AND v.recorded_at >= :since AND {_GUILD_POST}) AS detections,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'sent' AND r.kind = 'reply' AND r.sent_at >= :since
     AND (:g IS NULL OR r.guild_id = :g)) AS replies,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'sent' AND r.kind != 'reply' AND r.sent_at >= :since
     AND (:g IS NULL OR r.guild_id = :g)) AS other_sent,
  (SELECT COUNT(*) FROM replies r WHERE r.status = 'pending' AND r.claimed_at >= :since
     AND (:g IS NULL OR r.guild_id = :g)) AS pending_claims,
  (SELECT COALESCE(SUM(v.value = 1), 0) FROM votes v
     LEFT JOIN replies r ON r.platform = v.platform AND r.reply_id = v.reply_id
     WHERE v.updated_at >= :since AND (:g IS NULL OR r.guild_id = :g)) AS votes_up,
  (SELECT COALESCE(SUM(v.value = -1), 0) FROM votes v
     LEFT JOIN replies r ON r.platform = v.platform AND r.reply_id = v.reply_id
     WHERE v.updated_at >= :since AND (:g IS NULL OR r.guild_id = :g)) AS votes_down,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'approved' AND rv.decided_at >= :since AND {_GUILD_POST}) AS approved,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'rejected' AND rv.decided_at >= :since AND {_GUILD_POST}) AS rejected,
  (SELECT COUNT(*) FROM reviews rv LEFT JOIN posts p USING (platform, post_id)
     WHERE rv.status = 'pending' AND rv.created_at >= :since AND {_GUILD_POST}) AS pending_reviews
"""


class StatsMixin(StoreBase):
    async def stats(self, *, since: datetime | None = None, guild_id: str | None = None) -> dict[str, int | float]:
        """Counts since a time (default: ever), optionally for one guild.

        posts: posts stored (tombstones included); detections: verdicts labelled "frames"; replies: public replies
        sent; other_sent: shadow/queue messages sent; pending_claims: claims never confirmed; votes_up/votes_down;
        approved/rejected/pending_reviews: the review queue; precision: approved / (approved + rejected), 0.0
        while nothing was reviewed; vote_share: votes_up / all votes, 0.0 without votes.
        """
        row = await self._one(_STATS_SQL, {"since": db_time(since) if since else "", "g": guild_id})
        out: dict[str, int | float] = {k: int(v) for k, v in dict(row).items()} if row else {}
        reviewed = int(out.get("approved", 0)) + int(out.get("rejected", 0))
        voted = int(out.get("votes_up", 0)) + int(out.get("votes_down", 0))
        out["precision"] = out["approved"] / reviewed if reviewed else 0.0
        out["vote_share"] = out["votes_up"] / voted if voted else 0.0
        return out
