"""Helpers for the Reddit tests: settings pointing real praw at FakeReddit, a running front door, waiting."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import prawcore.sessions
import pytest

from bot.app import Resources, build_resources
from bot.models import Decision
from bot.reddit.client import RedditFrontDoor
from bot.settings import Settings, load_settings
from tests.fakes.fake_reddit import FakeReddit

FRAMING = (
    "Whoever wins the AI race between the US and China will rule the world. We must beat China at AI, "
    "nothing else matters."
)
ORDINARY = "Has anyone tried the new open-weight coding model on a laptop? Curious about speed."


@pytest.fixture(name="fake")
def fake_fixture() -> Any:
    with FakeReddit() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps up to 4 s between its retries; the tests must stay fast."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reddit_settings(fake: FakeReddit, tmp_path: Path, **reddit: Any) -> Settings:
    section = {
        "subreddits": ["ai"],
        "oauth_url": fake.base_url,
        "reddit_url": fake.base_url,
        "poll_seconds": 0.05,
        "mode": "queue",
        **reddit,
    }
    return load_settings(
        None,
        llm={"base_url": f"http://127.0.0.1:{unused_port()}/v1", "max_retries": 0, "connect_timeout": 0.5},
        framing={"engine": "lexical"},
        reddit=section,
        storage={"path": str(tmp_path / "cp.sqlite3")},
        REDDIT_CLIENT_ID="client-id",
        REDDIT_CLIENT_SECRET="client-secret",
        REDDIT_USERNAME=fake.bot_name,
        REDDIT_PASSWORD="hunter2",
    )


class Recorder:
    """Collects what the front door hands to the Discord side."""

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.queued: list[Decision] = []

    async def notify(self, text: str) -> None:
        self.notices.append(text)

    async def on_queued(self, decision: Decision) -> None:
        self.queued.append(decision)


@asynccontextmanager
async def running(settings: Settings, rec: Recorder | None = None) -> AsyncIterator[tuple[RedditFrontDoor, Resources]]:
    """A front door watching in a task, over its own resources (same database path = a restart)."""
    rec = rec or Recorder()
    async with build_resources(settings) as res:
        door = RedditFrontDoor(res, notify=rec.notify, on_queued=rec.on_queued)
        stop = asyncio.Event()
        task = asyncio.create_task(door.run(stop))
        try:
            yield door, res
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await door.aclose()


async def eventually(check: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


async def cycles(door: RedditFrontDoor, n: int = 2) -> None:
    """Wait until the watcher has made `n` more full passes (so "nothing happened" is a real observation)."""
    start = door.cycles
    await eventually(lambda: door.cycles >= start + n, what=f"{n} watch cycles")


def spy_on(res: Resources, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the ids of posts the pipeline handles, in order."""
    seen: list[str] = []
    handle = res.pipeline.handle

    async def spy(post: Any, **kw: Any) -> Any:
        seen.append(post.post_id)
        return await handle(post, **kw)

    monkeypatch.setattr(res.pipeline, "handle", spy)
    return seen
