"""Moderator digest over a period: activity per thread, short summaries of the busiest threads, framing detections
and what the bot did about each, votes on its replies, items waiting for review. Rendered as Discord-sized text.

The store queries it needs are described by `DigestStore`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import StoreError
from bot.models import Post, ReviewItem, Source, Summary, Thread, utcnow
from bot.text.clean import neutralize_mentions, quote
from bot.text.limits import DISCORD_LIMIT, clip, split_text

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.summary.summarizer import Summarizer

log = logging.getLogger(__name__)

MAX_THREADS_LISTED = 25
MAX_DETECTIONS_LISTED = 15
MAX_REVIEWS_LISTED = 10


class DigestStore(Protocol):
    async def active_threads(
        self, since: datetime, until: datetime | None = None, *, guild_id: str | None = None, limit: int = 20
    ) -> list[tuple[Thread, int]]: ...
    async def thread_posts(
        self, platform: str, thread_id: str, *, after: datetime | None = None, limit: int | None = None
    ) -> list[Post]: ...
    async def pending_reviews(self, limit: int = 50) -> list[ReviewItem]: ...
    async def stats(self, *, since: datetime | None = None, guild_id: str | None = None) -> dict[str, Any]: ...
    async def watched(self, guild_id: str | None = None) -> list[tuple[str, str]]: ...
    async def framing_detections(
        self, since: datetime, until: datetime, *, guild_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]: ...
    async def sources_added_since(self, since: datetime, *, guild_id: str | None = None) -> list[Source]: ...


@dataclass(frozen=True, slots=True)
class ThreadDigest:
    thread: Thread
    posts: int  # messages in the period
    summary: Summary | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    platform: str
    post_id: str
    thread_id: str
    author_name: str
    excerpt: str
    score: float
    action: str  # replied | reply dismissed | shadow | queued | approved | dismissed | sending | no action
    votes_up: int = 0
    votes_down: int = 0


@dataclass(frozen=True, slots=True)
class DigestScope:
    """What a digest covers, from [summarize] (hours, threads) and the watch lists of [discord] and [reddit]."""

    hours: int = 24  # the period when no `since` is given
    threads: int = 5  # the busiest threads get a summary
    watch_channels: frozenset[str] = frozenset()
    subreddits: frozenset[str] = frozenset()  # casefolded

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestScope:
        return cls(
            settings.summarize.digest_hours,
            settings.summarize.digest_threads,
            frozenset(settings.discord.watch_channels),
            frozenset(s.casefold() for s in settings.reddit.subreddits),
        )


@dataclass(frozen=True, slots=True)
class Digest:
    since: datetime
    until: datetime
    threads: tuple[ThreadDigest, ...]
    detections: tuple[Detection, ...]
    votes_up: int
    votes_down: int
    pending: tuple[ReviewItem, ...]
    notes: tuple[str, ...] = ()  # parts that could not be gathered, said plainly
    sources_added: tuple[Source, ...] = ()  # moderator-added sources (/sources add) in the period


async def build_digest(
    store: DigestStore,
    summarizer: Summarizer,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    guild_id: str | None = None,
    scope: DigestScope = DigestScope(),
) -> Digest:
    until = until or utcnow()
    since = since or until - timedelta(hours=scope.hours)
    notes: list[str] = []
    active = await _watched_only(
        store, scope, await store.active_threads(since, until, guild_id=guild_id, limit=200), guild_id
    )
    busiest = active[: scope.threads]
    summaries = await asyncio.gather(*(_summarize(store, summarizer, t) for t, _ in busiest))
    threads = tuple(ThreadDigest(t, n, summaries[i] if i < len(summaries) else None) for i, (t, n) in enumerate(active))
    detections = await _detections(store, since, until, guild_id, notes)
    stats = await store.stats(since=since, guild_id=guild_id)
    pending = await store.pending_reviews(limit=MAX_REVIEWS_LISTED + 1)
    return Digest(
        since=since,
        until=until,
        threads=threads,
        detections=tuple(detections),
        votes_up=int(stats.get("votes_up", 0)),
        votes_down=int(stats.get("votes_down", 0)),
        pending=tuple(pending),
        notes=tuple(notes),
        sources_added=tuple(await store.sources_added_since(since, guild_id=guild_id)),
    )


async def _watched_only(
    store: DigestStore, scope: DigestScope, active: list[tuple[Thread, int]], guild_id: str | None
) -> list[tuple[Thread, int]]:
    """Keep threads in watched channels and subreddits; a platform with nothing configured keeps all of its own."""
    channels = {c for _, c in await store.watched(guild_id)} | scope.watch_channels
    subs = scope.subreddits

    def keep(t: Thread) -> bool:
        if t.platform == "discord" and channels:
            return t.channel_id in channels or t.thread_id in channels
        if t.platform == "reddit" and subs:
            return t.channel_id.casefold() in subs
        return True

    return [(t, n) for t, n in active if keep(t)]


async def _summarize(store: DigestStore, summarizer: Summarizer, thread: Thread) -> Summary | None:
    # the whole thread, not just the period: it shares the cache with /summarize and is then an incremental update
    try:
        posts = await store.thread_posts(thread.platform, thread.thread_id)
    except StoreError as exc:
        log.warning("digest: cannot read thread %s: %s", thread.thread_id, exc)
        return None
    return await summarizer.summarize(posts, thread_id=thread.thread_id)


async def _detections(
    store: DigestStore, since: datetime, until: datetime, guild_id: str | None, notes: list[str]
) -> list[Detection]:
    rows = await store.framing_detections(since, until, guild_id=guild_id, limit=100)
    return [_detection(r) for r in rows]


def _detection(row: dict[str, Any]) -> Detection:
    return Detection(
        platform=str(row.get("platform", "")),
        post_id=str(row.get("post_id", "")),
        thread_id=str(row.get("thread_id", "")),
        author_name=str(row.get("author_name") or "someone"),
        excerpt=clip(quote(row.get("text") or row.get("quote") or ""), 160),
        score=float(row.get("score") or 0.0),
        action=action_of(row),
        votes_up=int(row.get("votes_up") or 0),
        votes_down=int(row.get("votes_down") or 0),
    )


def action_of(row: dict[str, Any]) -> str:
    """What the bot did about a detection, from its reply and review rows. "dismissed" is a review a moderator
    rejected (nothing was posted); "reply dismissed" a posted reply a moderator took down."""
    kind, status, review = row.get("reply_kind"), row.get("reply_status"), row.get("review_status")
    if kind == "shadow" and status == "sent":
        return "shadow"
    if kind and status == "sent" and row.get("dismissed_at"):
        return "reply dismissed"
    if kind and status == "sent":
        return "replied"
    if kind and status == "pending":
        return "sending"
    if review == "pending":
        return "queued"
    if review == "rejected":
        return "dismissed"
    if review == "approved":
        return "approved"
    return "no action"


# ---- rendering ---------------------------------------------------------------------------------------------


def render_digest(digest: Digest, *, link: Callable[[str], str] | None = None, limit: int = DISCORD_LIMIT) -> list[str]:
    """The digest as text pieces of at most `limit` characters, cut at line boundaries."""
    return split_text(neutralize_mentions("\n".join(_lines(digest, link or (lambda i: i)))), limit)


def _lines(d: Digest, cite: Callable[[str], str]) -> list[str]:
    span = f"{d.since:%Y-%m-%d %H:%M} → {d.until:%Y-%m-%d %H:%M} UTC"
    lines = [f"**Moderator digest** {span}", *_activity(d)]
    for t in (t for t in d.threads if t.summary is not None):
        lines += [
            "",
            f"__{_thread_name(t.thread)}__ ({_n(t.posts, 'message')} in the period)",
            *_short(t.summary, cite),
        ]
    lines += ["", *_detections_lines(d, cite), ""]
    lines.append(f"__Votes on the bot's replies__: +{d.votes_up} / -{d.votes_down}")
    more = "+" if len(d.pending) > MAX_REVIEWS_LISTED else ""
    lines.append(f"__Waiting for review__: {min(len(d.pending), MAX_REVIEWS_LISTED)}{more}")
    lines += [_review_line(r) for r in d.pending[:MAX_REVIEWS_LISTED]]
    if d.sources_added:
        lines.append(f"__Sources added by moderators__: {len(d.sources_added)}")
        lines += [f"• `{s.id}` {s.cite_title} ({', '.join(s.themes)})" for s in d.sources_added]
    return lines + [f"_{n}_" for n in d.notes]


def _activity(d: Digest) -> list[str]:
    total = sum(t.posts for t in d.threads)
    lines = [f"__Activity__: {_n(total, 'message')} in {_n(len(d.threads), 'thread')}"]
    lines += [f"• {_thread_name(t.thread)}: {_n(t.posts, 'message')}" for t in d.threads[:MAX_THREADS_LISTED]]
    if len(d.threads) > MAX_THREADS_LISTED:
        lines.append(f"• … and {_n(len(d.threads) - MAX_THREADS_LISTED, 'more thread')}")
    return lines


def _n(count: int, noun: str) -> str:
    """1 thread, 2 threads."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _detections_lines(d: Digest, cite: Callable[[str], str]) -> list[str]:
    lines = [f"__Framing detections__: {len(d.detections)}"]
    for det in d.detections[:MAX_DETECTIONS_LISTED]:
        votes = f" (+{det.votes_up}/-{det.votes_down})" if det.votes_up or det.votes_down else ""
        lines.append(
            f"• {quote(det.author_name)} [{cite(det.post_id)}] {det.score:.2f} → {det.action}{votes}: “{det.excerpt}”"
        )
    if len(d.detections) > MAX_DETECTIONS_LISTED:
        lines.append(f"• … and {len(d.detections) - MAX_DETECTIONS_LISTED} more")
    return lines


def _thread_name(t: Thread) -> str:
    where = f"r/{t.channel_id}" if t.platform == "reddit" else f"#{t.channel_id or t.thread_id}"
    return f"{clip(quote(t.title), 80)} ({where})" if t.title else f"thread {t.thread_id} ({where})"


def _short(s: Summary | None, cite: Callable[[str], str]) -> list[str]:
    if s is None:
        return ["• (no summary)"]
    lines = [f"• {p.text} [{', '.join(cite(i) for i in p.source_ids[:3])}]" for p in s.points[:3]]
    if s.framing:
        lines.append(f"• framing seen: {len(s.framing)}")
    if s.engine != "llm":
        lines.append(f"• ({s.engine} summary)")
    return lines or ["• (nothing to summarize)"]


def _review_line(r: ReviewItem) -> str:
    text = r.payload.get("text") or r.payload.get("post_text") or r.payload.get("excerpt") or ""
    return f"• review #{r.id} ({r.platform} {r.post_id}): {clip(quote(str(text)), 120)}"
