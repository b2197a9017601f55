"""Counts of the bot's fallbacks from the model: a counterpoint that went out as the cited template, a summary that
became the extractive one, and why. Moderators see them in /stats; no one's text is kept here."""

from __future__ import annotations

from datetime import datetime

from bot.store.base import StoreBase, db_time


class FallbacksMixin(StoreBase):
    async def record_fallback(self, kind: str, reason: str, *, scope: str = "") -> None:
        """One fallback of `kind` ("counterpoint" or "summary") for a short `reason` ("copy", "payload", ...)."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO fallbacks (kind, reason, scope, at) VALUES ($1, $2, $3, $4)",
                kind,
                reason,
                scope,
                self._now(),
            )

    async def fallback_counts(self, *, since: datetime | None = None, scope: str | None = None) -> dict[str, int]:
        """{"kind:reason": count} since a time (default: ever), optionally for one scope; most frequent first."""
        rows = await self._rows(
            "SELECT kind, reason, COUNT(*) AS n FROM fallbacks WHERE at >= $1 "
            "AND (CAST($2 AS TEXT) IS NULL OR scope = $2) GROUP BY kind, reason ORDER BY n DESC, kind, reason",
            db_time(since) if since else "",
            scope,
        )
        return {f"{r['kind']}:{r['reason']}": int(r["n"]) for r in rows}
