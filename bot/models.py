"""Plain values shared by the core and the adapters. No I/O here, no platform imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Platform = Literal["discord", "reddit", "file"]
Label = Literal["frames", "mentions", "other"]
Engine = Literal["llm", "lexical", "template", "extractive", "none"]
LABELS: tuple[Label, ...] = ("frames", "mentions", "other")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Post:
    """One message or comment, already converted from its platform object."""

    platform: Platform
    post_id: str
    thread_id: str
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    channel_id: str = ""  # Discord channel (or parent channel of a thread); subreddit name on Reddit
    guild_id: str = ""  # Discord guild; "" on Reddit
    parent_id: str | None = None  # the post this one replies to
    author_is_bot: bool = False
    url: str = ""

    @property
    def scope(self) -> str:
        """The community the post belongs to: a Discord server, or a subreddit (limits, claim cache, stats)."""
        return f"discord:{self.guild_id}" if self.platform == "discord" else f"reddit:r/{self.channel_id.lower()}"


@dataclass(frozen=True, slots=True)
class Thread:
    platform: Platform
    thread_id: str
    title: str = ""
    channel_id: str = ""
    guild_id: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class PrefilterResult:
    passed: bool
    cues: tuple[str, ...] = ()
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    label: Label
    score: float  # confidence that the label is right, 0..1
    engine: Engine
    prefilter: PrefilterResult
    quote: str = ""
    reason: str = ""

    @property
    def frames(self) -> bool:
        return self.label == "frames"


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    publisher: str
    date: str
    url: str
    themes: tuple[str, ...]
    facts: tuple[str, ...]
    via: str = ""
    lang: str = "en"  # the language the source is written in
    guild_id: str = ""  # the Discord server a moderator added it in (cited there only); "" for every server
    added_by: str = ""  # "" for the shipped library, a moderator id for run-time additions

    @property
    def cite_title(self) -> str:
        base = f"{self.title} ({self.publisher})"
        return f"{base}, via {self.via}" if self.via else base


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Counterpoint:
    text: str
    citations: tuple[Citation, ...]
    engine: Engine
    themes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryPoint:
    text: str
    source_ids: tuple[str, ...] = ()  # post ids the point rests on; adapters turn them into jump links


@dataclass(frozen=True, slots=True)
class Summary:
    thread_id: str
    points: tuple[SummaryPoint, ...]
    disagreements: tuple[SummaryPoint, ...] = ()
    open_questions: tuple[SummaryPoint, ...] = ()
    framing: tuple[SummaryPoint, ...] = ()
    engine: Engine = "llm"
    covered_until: str = ""  # id of the last post covered
    message_count: int = 0
    partial: bool = False  # True when some chunks failed and the summary covers only part of the thread
    note: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


ReviewStatus = Literal["pending", "approved", "rejected"]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A post held back for the moderators, as the store keeps it. `payload` is what the pipeline queued with it:
    text, author, url, reason, guild_id, the verdict and the counterpoint (as dicts), composed_for; removing a post
    empties it, so every key may be missing."""

    id: int
    platform: str
    post_id: str
    status: ReviewStatus
    created_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    moderator: str | None = None
    decided_at: datetime | None = None
    thread_id: str | None = None
    scope: str | None = None
    author_id: str | None = None

    @property
    def guild_id(self) -> str:
        """The Discord server the post is in; "" on Reddit."""
        return str(self.payload.get("guild_id") or "") if self.platform == "discord" else ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the pipeline decided for one post; the adapter carries it out."""

    post: Post
    verdict: Verdict | None
    action: Literal["ignore", "reply", "shadow", "queue"]
    counterpoint: Counterpoint | None = None
    reason: str = ""
    review_id: int | None = None  # the review item the post went to, or that a moderator approved
    flood: str = ""  # set on "ignore": the moderators' limit the post went past (the adapter reports the flood)
