"""Load: a burst of 10,000 posts through the real pipeline (real Store file, FakeLLM judge), and 1,000 messages
through the real Discord watcher (discord.py against FakeDiscord).

What must hold under the burst: every post is stored; memory stays flat (the feed is a bounded queue and nothing
in the core keeps per-post state); replies stay within the thread cooldown and the per-guild hourly cap; the model
is asked only about posts that pass the prefilter (counted from FakeLLM.requests).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import sqlite3
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bot.cogs import watch

from bot.app import build_resources
from bot.framing.lexical import prefilter
from bot.models import Post
from bot.pipeline import Policy
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    FRAMING_2,
    bot_with,
    eventually,
    fake_discord_fixture,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 (fixture)
from tests.fakes.framing_kit import keyword_judge
from tests.faults.kit import GOOD, core_settings, discord_section, is_counterpoint_request, offered

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COOLDOWN, CAP = 600, 6
FRAMINGS = (
    FRAMING,
    FRAMING_2,
    "Whoever wins the AI race between America and China will rule the century.",
    "中美AI竞赛，美国必须赢，否则中国会统治世界。",
    "La carrera de la IA entre Estados Unidos y China decidirá quién manda en el mundo.",
)
CHATTER = (
    "anyone tried the new q4 quant of qwen on a 3090?", "thanks, that fixed it", "+1", "lol same",
    "llama.cpp crashes on load after the update, any ideas?", "ollama is slower than last week for me",
    "my M2 Max runs 8k context fine", "I read a Chinese paper on speculative decoding, very clear",
    "the US office is closed on Monday, ping me later", "DeepSeek's distill runs fine on my laptop",
    "is vLLM worth it for a single user?", "nice", "see logs below: CUDA error 700", "closing as stale",
)  # fmt: skip


def burst(n: int, *, every: int = 50, threads: int = 20, seed: int = 9) -> list[Post]:
    """n posts two seconds apart (about 5.5 hours for 10,000): chatter, with one framing post every `every`."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        text = FRAMINGS[(i // every) % len(FRAMINGS)] if i % every == every - 1 else rng.choice(CHATTER)
        thread, author = f"t{rng.randrange(threads)}", f"u{rng.randrange(300)}"
        at = T0 + timedelta(seconds=2 * i)
        posts.append(Post("discord", f"p{i}", thread, author, "user", f"{text} #{i}", at, "c1", "g1"))
    return posts


def responder(body: dict[str, Any]) -> dict[str, Any]:
    if is_counterpoint_request(body):
        return {"text": GOOD, "source_ids": offered(body)[:2]}
    return keyword_judge(body)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def feed(pipeline: Any, posts: list[Post], clock: Clock, *, workers: int = 8, bound: int = 256) -> dict:
    """Posts go through a bounded queue to a few workers, as a front door under a burst should feed the core."""
    queue: asyncio.Queue[Post | None] = asyncio.Queue(maxsize=bound)
    policy = Policy("reply", COOLDOWN, CAP)
    seen = {"max_queued": 0, "rss_at_1000": 0.0}

    async def work() -> None:
        while (item := await queue.get()) is not None:
            await pipeline.handle(item, policy=policy)

    tasks = [asyncio.create_task(work()) for _ in range(workers)]
    for i, p in enumerate(posts):
        clock.now = p.created_at
        await queue.put(p)
        seen["max_queued"] = max(seen["max_queued"], queue.qsize())
        if i == 1000:
            seen["rss_at_1000"] = rss_mb()
    for _ in tasks:
        await queue.put(None)
    await asyncio.gather(*tasks)
    return seen


def assert_within_cooldown_and_cap(db: Path, *, guild: str = "g1") -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT thread_id, claimed_at FROM replies WHERE guild_id = ? AND kind = 'reply' ORDER BY claimed_at",
            (guild,),
        ).fetchall()
    times = [datetime.fromisoformat(at) for _, at in rows]
    by_thread: dict[str, list[datetime]] = defaultdict(list)
    for (thread_id, _), at in zip(rows, times, strict=True):
        by_thread[thread_id].append(at)
    for thread_times in by_thread.values():
        gaps = [b - a for a, b in itertools.pairwise(thread_times)]
        assert all(g >= timedelta(seconds=COOLDOWN) for g in gaps), gaps
    for i, start in enumerate(times):
        in_hour = sum(1 for t in times[i:] if t - start < timedelta(hours=1))
        assert in_hour <= CAP, (start, in_hour)
    return len(rows)


@pytest.mark.slow
async def test_a_burst_of_10000_posts_is_stored_bounded_and_within_the_caps(tmp_path, fake_llm: FakeLLM):
    fake_llm.responder = responder
    posts = burst(10_000)
    clock = Clock()
    settings = core_settings(tmp_path, fake_llm.base_url, llm={"deadline": 10.0})
    started = time.monotonic()
    async with build_resources(settings, clock=clock) as res:
        seen = await feed(res.pipeline, posts, clock)
        stats = await res.store.stats()
    took = time.monotonic() - started
    rss_end = rss_mb()

    assert stats["posts"] == len(posts)  # every post stored
    assert seen["max_queued"] <= 256
    assert rss_end - seen["rss_at_1000"] < 40, (seen["rss_at_1000"], rss_end)  # flat, not growing with posts
    replies = assert_within_cooldown_and_cap(Path(settings.storage.path))
    assert 0 < replies <= CAP * 6  # ~5.5 simulated hours at most CAP an hour

    passed = sum(prefilter(p.text).passed for p in posts)
    judged = [b for b in fake_llm.requests if not is_counterpoint_request(b)]
    composed = [b for b in fake_llm.requests if is_counterpoint_request(b)]
    assert len(judged) == passed  # one model call per prefilter pass, none for the rest
    assert passed < len(posts) * 0.05, passed
    assert len(composed) <= stats["detections"]
    print(f"\n10,000 posts in {took:.1f} s; {passed} judged by the model, {len(composed)} composed, {replies} replies")


async def test_a_burst_of_1000_posts_takes_one_model_call_per_prefilter_pass(tmp_path, fake_llm: FakeLLM):
    """The fast version of the above for every run: same checks on 1,000 posts (about 33 simulated minutes)."""
    fake_llm.responder = responder
    posts = burst(1_000, every=25)
    clock = Clock()
    async with build_resources(core_settings(tmp_path, fake_llm.base_url, llm={"deadline": 10.0}), clock=clock) as res:
        await feed(res.pipeline, posts, clock)
        stats = await res.store.stats()
        path = Path(res.settings.storage.path)
    assert stats["posts"] == 1_000
    replies = assert_within_cooldown_and_cap(path)
    assert 0 < replies <= CAP
    judged = [b for b in fake_llm.requests if not is_counterpoint_request(b)]
    assert len(judged) == sum(prefilter(p.text).passed for p in posts) < 100


def handler_tasks() -> int:
    """discord.py runs each event listener as its own task, named 'discord.py: on_message' and so on."""
    return sum(1 for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: on_message"))


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def post_burst(fake: FakeDiscord, texts: list[str]) -> None:
    for i, text in enumerate(texts):
        await fake.user_message(fake.thread if (i // 40) % 2 else fake.general, text, author=fake.bob)


def watcher_settings(tmp_path: Path, fake: FakeDiscord, fake_llm: FakeLLM) -> Any:
    section = discord_section(fake, cooldown_seconds=COOLDOWN, hourly_cap=CAP)
    return core_settings(tmp_path, fake_llm.base_url, llm={"deadline": 10.0}, discord=section)


async def test_a_burst_of_1000_messages_through_the_discord_watcher(tmp_path, fake: FakeDiscord, fake_llm: FakeLLM):
    """The listener only queues; a few workers judge: the queue stays within its limit, every message is stored
    and judged, the model is asked only about prefilter passes, replies keep the cooldown and the cap."""
    fake_llm.responder = responder
    settings = watcher_settings(tmp_path, fake, fake_llm)
    db = Path(settings.storage.path)
    texts = [p.text for p in burst(1_000, every=40)]
    peak = {"queued": 0, "tasks": 0}
    async with bot_with(settings) as bot:
        queue = bot.get_cog("Watcher")._queue

        async def sample() -> None:
            while True:
                peak["queued"] = max(peak["queued"], queue.qsize())
                peak["tasks"] = max(peak["tasks"], handler_tasks())
                await asyncio.sleep(0.005)

        sampler = asyncio.create_task(sample())
        rss_before, started = rss_mb(), time.monotonic()
        await post_burst(fake, texts)
        await eventually(lambda: _count_is(db, "verdicts", len(texts)), timeout=60, what="all 1,000 judged")
        took, rss_after = time.monotonic() - started, rss_mb()
        sampler.cancel()
        replies = assert_within_cooldown_and_cap(db, guild=str(bot.guilds[0].id))
    assert count(db, "posts") == len(texts)
    assert 0 < peak["queued"] <= watch.QUEUE_LIMIT
    judged = [b for b in fake_llm.requests if not is_counterpoint_request(b)]
    # only prefilter passes cost a call, and one author's posts no more than the hourly model budget
    assert len(judged) == min(sum(prefilter(t).passed for t in texts), settings.limits.user_model_calls_per_hour)
    assert 2 <= replies <= CAP  # both threads had framing posts; one reply each within the cooldown
    print(f"\n1,000 messages judged in {took:.1f} s; queue peak {peak['queued']}, listener tasks peak "
          f"{peak['tasks']}; RSS {rss_before:.0f} -> {rss_after:.0f} MB; {replies} replies")  # fmt: skip


async def test_past_the_queue_limit_messages_are_stored_unjudged_with_one_log_line(
    tmp_path, fake: FakeDiscord, fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
):
    fake_llm.responder = responder
    caplog.set_level(logging.INFO, logger="bot.cogs.watch")
    settings = watcher_settings(tmp_path, fake, fake_llm)
    db = Path(settings.storage.path)
    texts = [p.text for p in burst(600, every=40)]
    async with bot_with(settings) as bot:
        await small_watcher(bot, queue_limit=20)
        await post_burst(fake, texts)
        await eventually(lambda: _count_is(db, "posts", len(texts)), timeout=60, what="all 600 stored")
        await eventually(_drained, timeout=30, what="the queue drained")
    full = [r for r in caplog.records if "watcher queue full" in r.getMessage()]
    assert full and full[0].levelno == logging.WARNING
    assert "storing new messages unjudged" in full[0].getMessage()
    assert any("queue drained" in r.getMessage() for r in caplog.records)
    assert count(db, "posts") == len(texts)  # shed, not lost
    assert count(db, "verdicts") < len(texts)


async def test_closing_the_bot_judges_what_is_queued_first(tmp_path, fake: FakeDiscord, fake_llm: FakeLLM):
    fake_llm.responder = responder
    settings = watcher_settings(tmp_path, fake, fake_llm)
    db = Path(settings.storage.path)
    texts = [p.text for p in burst(300, every=40)]
    async with bot_with(settings) as bot:
        queue = (await small_watcher(bot, workers=1))._queue  # a slow drain: a backlog is there at close
        await post_burst(fake, texts)

        async def all_received() -> bool:
            judged = await asyncio.to_thread(count, db, "verdicts")
            return judged + queue.qsize() + 1 >= len(texts) and await _drained()

        await eventually(all_received, timeout=30, what="every message received")
        backlog = queue.qsize()
    # closed with a backlog: the watcher's unload judged it before the store closed
    assert backlog > 0
    assert count(db, "verdicts") == count(db, "posts") == len(texts)


async def small_watcher(bot: Any, **limits: int) -> Any:
    """Swap the running watcher for one with smaller limits (the extension module is loaded by discord.py itself,
    so its constants cannot be patched from here)."""
    cls = type(bot.get_cog("Watcher"))
    await bot.remove_cog("Watcher")
    await bot.add_cog(cls(bot, **limits))
    return bot.get_cog("Watcher")


async def _count_is(db: Path, table: str, n: int, at_least: bool = True) -> bool:
    found = await asyncio.to_thread(count, db, table)
    return found >= n if at_least else found == n


async def _queued(bot: Any) -> bool:
    return bot.get_cog("Watcher")._queue.qsize() > 0


async def _drained() -> bool:
    """No listener task is still busy queueing (the queue itself may hold messages)."""
    return handler_tasks() == 0


async def _idle() -> bool:
    return handler_tasks() == 0
