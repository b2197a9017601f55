"""Derived content: stored summaries, the counterpoint cache, moderator-added sources."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bot.errors import StoreError
from bot.models import Counterpoint, Source, Summary
from bot.serialize import (
    counterpoint_from_dict,
    counterpoint_to_dict,
    source_from_dict,
    source_to_dict,
    summary_from_dict,
    summary_to_dict,
)
from bot.store.base import StoreBase, Tx, db_time
from bot.store.posts import post_withheld
from bot.text import jsonsafe

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredSummary:
    summary: Summary
    covered_until: str  # id of the last post the summary covers
    content_hash: str
    stale: bool  # a covered post was edited or deleted since: regenerate before showing
    updated_at: datetime


def reply_hash(text: str) -> str:
    """What the claim cache remembers of a counterpoint's text to find it again from a reply: a digest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


async def drop_cached(db: Tx, platform: str, reply_id: str) -> int:
    """Inside a write: forget the cached counterpoint whose text a sent reply carries (see drop_cached_reply)."""
    rows = await db.fetch("SELECT text FROM replies WHERE platform = $1 AND reply_id = $2", platform, reply_id)
    hashes = [reply_hash(r["text"]) for r in rows if r["text"]]
    return sum([await db.execute("DELETE FROM cp_cache WHERE cp_hash = $1", h) for h in hashes])


def _decode(what: str, raw: str, parse: Callable[[Any], T]) -> T:
    try:
        return parse(jsonsafe.loads(raw))
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"A stored {what} is unreadable ({exc}); delete it or restore a backup.") from exc


class ContentMixin(StoreBase):
    async def save_summary(
        self, platform: str, thread_id: str, summary: Summary, *, covered_until: str, content_hash: str
    ) -> None:
        """Replace the thread's stored summary; a fresh one is never stale."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO summaries (platform, thread_id, summary, covered_until, content_hash, stale, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (platform, thread_id) DO UPDATE SET "
                "summary = excluded.summary, covered_until = excluded.covered_until, "
                "content_hash = excluded.content_hash, stale = 0, updated_at = excluded.updated_at",
                platform,
                thread_id,
                json.dumps(summary_to_dict(summary)),
                covered_until,
                content_hash,
                self._now(),
            )

    async def get_summary(self, platform: str, thread_id: str) -> StoredSummary | None:
        row = await self._one("SELECT * FROM summaries WHERE platform = $1 AND thread_id = $2", platform, thread_id)
        if row is None:
            return None
        return StoredSummary(
            summary=_decode("summary", row["summary"], summary_from_dict),
            covered_until=row["covered_until"],
            content_hash=row["content_hash"],
            stale=bool(row["stale"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    async def save_counterpoint(
        self,
        claim_key: str,
        claim_text: str,
        cp: Counterpoint,
        *,
        scope: str = "",
        platform: str | None = None,
        post_id: str | None = None,
    ) -> bool:
        """Cache a counterpoint under its claim key (replacing an older one) for one server or subreddit (`scope`;
        the key should be made with the same scope, see bot/counterpoint/claims.claim_key). Pass the post it was
        made for, so deleting that post removes the cached claim text too; False (nothing cached) if that post is
        already deleted or its author opted out."""
        async with self._write() as db:
            if platform and post_id and await post_withheld(db, platform, post_id):
                return False
            await db.execute(
                "INSERT INTO cp_cache (claim_key, claim_text, counterpoint, created_at, platform, post_id, scope, "
                "cp_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (claim_key) DO UPDATE SET "
                "claim_text = excluded.claim_text, "
                "counterpoint = excluded.counterpoint, created_at = excluded.created_at, "
                "platform = excluded.platform, post_id = excluded.post_id, scope = excluded.scope, "
                "cp_hash = excluded.cp_hash",
                claim_key,
                claim_text,
                json.dumps(counterpoint_to_dict(cp)),
                self._now(),
                platform,
                post_id,
                scope,
                reply_hash(cp.text),
            )
            return True

    async def find_counterpoint(self, claim_key: str, *, scope: str = "") -> Counterpoint | None:
        row = await self._one("SELECT counterpoint FROM cp_cache WHERE claim_key = $1 AND scope = $2", claim_key, scope)
        return _decode("counterpoint", row[0], counterpoint_from_dict) if row else None

    async def recent_counterpoints(self, limit: int = 200, *, scope: str = "") -> list[tuple[str, Counterpoint]]:
        """(claim_text, counterpoint) of one scope, newest first, for similarity reuse."""
        rows = await self._rows(
            "SELECT claim_text, counterpoint FROM cp_cache WHERE scope = $1 "
            "ORDER BY created_at DESC, rowid DESC LIMIT $2",
            scope,
            limit,
        )
        return [(r[0], _decode("counterpoint", r[1], counterpoint_from_dict)) for r in rows]

    async def drop_cached_reply(self, text: str) -> int:
        """Forget every cached counterpoint with this text, in every scope (a moderator rejected it, or its
        readers voted it down); the number of entries dropped."""
        async with self._write() as db:
            return await db.execute("DELETE FROM cp_cache WHERE cp_hash = $1", reply_hash(text))

    async def add_source(self, source: Source) -> None:
        """Add or replace a moderator-added source (same id replaces)."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO sources (id, source, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) "
                "DO UPDATE SET source = excluded.source, added_by = excluded.added_by, added_at = excluded.added_at",
                source.id,
                json.dumps(source_to_dict(source)),
                source.added_by,
                self._now(),
            )

    async def remove_source(self, source_id: str) -> bool:
        async with self._write() as db:
            return await db.execute("DELETE FROM sources WHERE id = $1", source_id) == 1

    async def list_sources(self) -> list[Source]:
        rows = await self._rows("SELECT source FROM sources ORDER BY added_at, id")
        return [_decode("source", r[0], source_from_dict) for r in rows]

    async def sources_added_since(self, since: datetime, *, guild_id: str | None = None) -> list[Source]:
        """Moderator-added sources added (or replaced) at or after `since`, oldest first; with guild_id, those of
        that server and those for every server (the digest lists them)."""
        rows = await self._rows("SELECT source FROM sources WHERE added_at >= $1 ORDER BY added_at, id", db_time(since))
        found = [_decode("source", r[0], source_from_dict) for r in rows]
        return [s for s in found if guild_id is None or s.guild_id in ("", guild_id)]
