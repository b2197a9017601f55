"""Helpers shared by the store tests: a settable clock and post/verdict builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import Citation, Counterpoint, Post, PrefilterResult, Summary, SummaryPoint, Verdict

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Injected as Store.open(..., clock=clock) so times in the database are under the test's control."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def db_path(tmp_path: Path) -> Path:
    # a nested folder that does not exist yet: the store must create it
    return tmp_path / "data" / "nested" / "cp.sqlite3"


def post(
    post_id: str,
    text: str = "",
    *,
    thread: str = "t1",
    author: str = "u1",
    at: datetime | None = None,
    platform: str = "discord",
    guild: str = "g1",
    channel: str = "c1",
    parent: str | None = None,
) -> Post:
    return Post(
        platform=platform,  # type: ignore[arg-type]
        post_id=post_id,
        thread_id=thread,
        author_id=author,
        author_name=f"name-{author}",
        text=text or f"text of post {post_id}",
        created_at=at or T0,
        channel_id=channel,
        guild_id=guild,
        parent_id=parent,
    )


def verdict(label: str = "frames", quote: str = "", reason: str = "") -> Verdict:
    return Verdict(
        label=label,  # type: ignore[arg-type]
        score=0.9,
        engine="llm",
        prefilter=PrefilterResult(passed=True, cues=("race", "china"), score=0.8),
        quote=quote,
        reason=reason,
    )


def counterpoint(text: str = "Research is global; see the sources.") -> Counterpoint:
    return Counterpoint(
        text=text,
        citations=(Citation(id="s1", title="AI Index", url="https://example.org/ai-index"),),
        engine="template",
        themes=("collaboration",),
    )


def summary(thread_id: str = "t1", covered_until: str = "") -> Summary:
    return Summary(
        thread_id=thread_id,
        points=(SummaryPoint("People discuss chips.", ("p1",)),),
        disagreements=(SummaryPoint("Whether export controls work.", ("p2", "p3")),),
        covered_until=covered_until,
        message_count=3,
    )
