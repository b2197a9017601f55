"""Pipeline decisions against a real Store: modes, dedup, bots, opt-outs, cooldowns, caps, approval, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Citation, Counterpoint, Post, PrefilterResult, Verdict
from bot.pipeline import Pipeline, Policy
from bot.settings import load_settings
from bot.store import Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class StubDetector:
    def __init__(self) -> None:
        self.calls = 0

    async def detect(self, text: str, *, parent: str | None = None) -> Verdict:
        self.calls += 1
        label = "frames" if "race with china" in text.lower() else "other"
        return Verdict(label, 0.9, "lexical", PrefilterResult(label == "frames", ("race",)))


class StubComposer:
    async def compose(
        self, post_text, verdict=None, *, platform=None, post_id=None, scope="", guild_id=None
    ) -> Counterpoint:
        return Counterpoint("Added context [1].", (Citation("s1", "Source", "https://example.org/s1"),), "template")


def post(pid: str, text: str = "The AI race with China is everything", *, thread="t1", guild="g1", **kw) -> Post:
    return Post("discord", pid, thread, kw.pop("author", "u1"), "alice", text, T0, "c1", guild, **kw)


REPLY = Policy("reply", cooldown_seconds=600, hourly_cap=2)


@pytest.fixture
async def env(tmp_path):
    clock = Clock()
    async with Store.open(tmp_path / "p.db", clock=clock) as store:
        yield Pipeline.from_settings(load_settings(), store, StubDetector(), StubComposer(), clock=clock), store, clock


async def test_reply_mode_claims_once_and_records_the_send(env):
    pipe, store, _ = env
    d = await pipe.handle(post("1"), policy=REPLY)
    assert d.action == "reply" and d.counterpoint is not None and d.verdict is not None
    await pipe.sent(d, "r1")
    assert (await store.get_reply("discord", "1"))["status"] == "sent"
    again = await pipe.handle(post("1"), policy=REPLY)
    assert again.action == "ignore" and again.reason == "already seen"


async def test_ordinary_posts_bots_empty_and_off_are_ignored(env):
    pipe, _, _ = env
    assert (await pipe.handle(post("2", "Qwen 3 is great for coding"), policy=REPLY)).reason == "label other"
    assert (await pipe.handle(post("3", author_is_bot=True), policy=REPLY)).reason == "bots are never answered"
    assert (await pipe.handle(post("4", "   "), policy=REPLY)).reason == "empty"
    assert (await pipe.handle(post("5"), policy=Policy("off", 0, 9))).reason == "mode off"
    assert pipe.detector.calls == 1


async def test_opted_out_author_is_neither_stored_nor_answered(env):
    pipe, store, _ = env
    await store.opt_out("discord", "u9")
    d = await pipe.handle(post("6", author="u9"), policy=REPLY)
    assert d.action == "ignore" and d.reason == "author opted out"
    assert await store.get_post("discord", "6") is None


async def test_shadow_mode_claims_a_shadow_note(env):
    pipe, store, _ = env
    d = await pipe.handle(post("7"), policy=Policy("shadow", 600, 6))
    assert d.action == "shadow"
    assert (await store.get_reply("discord", "7"))["kind"] == "shadow"


async def test_cooldown_and_hourly_cap_send_to_the_review_queue(env):
    pipe, store, clock = env
    first = await pipe.handle(post("10"), policy=REPLY)
    assert first.action == "reply"
    second = await pipe.handle(post("11"), policy=REPLY)
    assert (second.action, second.reason) == ("queue", "thread cooldown")
    clock.now += timedelta(minutes=11)
    assert (await pipe.handle(post("12"), policy=REPLY)).action == "reply"
    third = await pipe.handle(post("13", thread="t2"), policy=REPLY)
    assert (third.action, third.reason) == ("queue", "hourly cap reached")
    assert len(await store.pending_reviews()) == 2


async def test_concurrent_posts_in_one_thread_get_one_reply(env):
    pipe, _, _ = env
    decisions = await asyncio.gather(*(pipe.handle(post(f"c{i}"), policy=REPLY) for i in range(10)))
    assert [d.action for d in decisions].count("reply") == 1


async def test_approve_claims_once_and_reject_is_final(env):
    pipe, _, _ = env
    d = await pipe.handle(post("20"), policy=Policy("queue", 0, 9))
    review_id = d.review_id
    approved = await pipe.approve(review_id, "mod1")
    assert approved is not None and approved.action == "reply" and approved.counterpoint.text == "Added context [1]."
    assert await pipe.approve(review_id, "mod2") is None
    d2 = await pipe.handle(post("21", thread="t9"), policy=Policy("queue", 0, 9))
    assert await pipe.reject(d2.review_id, "mod1")
    assert await pipe.approve(d2.review_id, "mod1") is None


async def test_a_rejected_review_item_drops_its_reply_from_the_claim_cache(env):
    pipe, store, _ = env
    d = await pipe.handle(post("22", thread="t8"), policy=Policy("queue", 0, 9))
    assert d.counterpoint is not None
    await store.save_counterpoint("k22", d.post.text, d.counterpoint, scope=d.post.scope)
    assert await pipe.reject(d.review_id, "mod1")
    assert await store.find_counterpoint("k22", scope=d.post.scope) is None  # never reused for a repeated claim
    assert not await pipe.reject(d.review_id, "mod2")


async def test_failed_send_frees_the_claim(env):
    pipe, store, _ = env
    d = await pipe.handle(post("30"), policy=REPLY)
    await pipe.failed(d)
    assert await store.get_reply("discord", "30") is None


async def test_restart_never_answers_twice(tmp_path):
    clock = Clock()
    settings = load_settings()
    async with Store.open(tmp_path / "r.db", clock=clock) as store:
        d = await Pipeline.from_settings(settings, store, StubDetector(), StubComposer(), clock=clock).handle(
            post("40"), policy=REPLY
        )
        assert d.action == "reply"  # claimed, then the process dies before sending
    async with Store.open(tmp_path / "r.db", clock=clock) as store:
        pipe = Pipeline.from_settings(settings, store, StubDetector(), StubComposer(), clock=clock)
        again = await pipe.handle(post("40"), policy=REPLY)
        assert again.action == "ignore"


async def test_policy_merges_settings_guild_and_channel(env):
    pipe, store, _ = env
    assert (await pipe.policy("discord", "g1", "c1")).mode == "shadow"
    await store.set_channel_config("g1", "", "mode", "reply")
    await store.set_channel_config("g1", "c1", "cooldown_seconds", "5")
    p = await pipe.policy("discord", "g1", "c1")
    assert (p.mode, p.cooldown_seconds) == ("reply", 5)
    assert (await pipe.policy("reddit", "", "LocalLLaMA")).mode == "queue"


async def test_a_failed_approved_reply_goes_back_to_the_queue(env):
    pipe, store, _ = env
    d = await pipe.handle(post("50"), policy=Policy("queue", 0, 9))
    review_id = d.review_id
    approved = await pipe.approve(review_id, "mod1")
    assert approved is not None and approved.review_id == review_id
    await pipe.failed(approved)  # Discord or Reddit refused: the sender frees the claim, nothing went out
    assert await pipe.approval_failed(approved)
    assert (await store.get_review(review_id)).status == "pending"
    assert await store.get_reply("discord", "50") is None
    again = await pipe.approve(review_id, "mod2")  # a retry claims and can post
    assert again is not None
    await pipe.sent(again, "r50")
    assert not await pipe.approval_failed(again)  # it went out: stays decided
    assert (await store.get_review(review_id)).status == "approved"


async def test_retention_runs_while_the_bot_runs_and_stops_with_it(tmp_path):
    from bot.app import retention_loop

    clock = Clock()
    async with Store.open(tmp_path / "ret.db", clock=clock) as store:
        old = Post("discord", "old", "t", "u", "a", "secret old words", T0 - timedelta(days=100), "c", "g")
        await store.add_post(old)
        assert await store.take_slot("model", "u-old", limit=5, window_seconds=3600)
        clock.now = T0 + timedelta(days=2)
        stop = asyncio.Event()
        loop = asyncio.create_task(retention_loop(store, 90, stop, every=0.05))
        for _ in range(100):
            got = await store.get_post("discord", "old")
            if got is not None and got.text == "":
                break
            await asyncio.sleep(0.02)
        assert (await store.get_post("discord", "old")).text == ""  # purged by the loop, not at start-up
        assert await store.purge_rate_events() == 0  # the loop already removed the two-day-old limit event
        stop.set()
        await asyncio.wait_for(loop, 2)
