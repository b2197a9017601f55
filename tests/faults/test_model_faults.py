"""The model server fails in every way we know; the user still gets an answer, from the offline engines.

Each case wires the real core (build_resources: Store, LLMClient, Detector, Composer, Summarizer) to a FakeLLM with
one fault knob set, and asserts what a person in the channel would get: a framing post still gets a cited
counterpoint (lexical verdict, template text), an ordinary post is still left alone, a summary still arrives with a
note saying what happened. Nothing raises, and every call ends within a bound set by llm.deadline.

Streaming: no user-facing path streams today (structured replies are one JSON reply; summaries are JSON per
chunk), so a connection dying mid-reply reaches users as `disconnect` below; LLMClient.stream()'s own mid-stream
drop and stall are covered by tests/test_llm_stream.py (test_dropped_stream_..., test_stalled_stream_...).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.app import build_resources
from bot.models import Post
from bot.text.clean import has_link, has_live_mention
from tests.fakes.discord_kit import bot_with, restore_discord_globals_fixture  # noqa: F401 (autouse fixture)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 (fixture)
from tests.fakes.summary_kit import shows_message, summary_responder, thread
from tests.faults.kit import ORDINARY, REPLY, core_settings, discord_section, obedient, post

# fault name -> knobs set on the FakeLLM (None: no server at all)
FAULTS: dict[str, dict[str, Any] | None] = {
    "down": None,
    "slow": {"delay": 30.0},  # far beyond llm.deadline (1.5 s)
    "overloaded-429": {"status": 429, "retry_after": "120"},  # asks for more time than the deadline leaves
    "overloaded-503": {"status": 503},  # retried once with backoff, then given up
    "garbage": {"garbage": True},  # 200 with an HTML body
    "disconnect": {"disconnect_times": 1000},  # the connection dies before any answer
    "not-json": {"responder": lambda body: "Sure! Here is my answer, no JSON though."},
}
BOUND = 12.0  # seconds: two model calls (judge + composer) each capped by the 1.5 s deadline, plus slack


def apply(fake: FakeLLM, knobs: dict[str, Any]) -> None:
    for name, value in knobs.items():
        setattr(fake, name, value)


def assert_user_gets_a_cited_counterpoint(decision: Any) -> None:
    assert decision.action == "reply", decision.reason
    cp = decision.counterpoint
    assert cp is not None and cp.engine == "template" and cp.citations
    assert cp.text.strip() and not has_link(cp.text) and not has_live_mention(cp.text)
    assert decision.verdict is not None and decision.verdict.engine == "lexical"


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_failing_model_still_answers_framing_and_ignores_chatter(tmp_path, fake_llm: FakeLLM, fault: str):
    fake_llm.responder = obedient()
    knobs = FAULTS[fault]
    if knobs is not None:
        apply(fake_llm, knobs)
    settings = core_settings(tmp_path, fake_llm.base_url if knobs is not None else None)
    async with build_resources(settings) as res:
        started = time.monotonic()
        framing = await res.pipeline.handle(post("1"), policy=REPLY)
        ordinary = await res.pipeline.handle(post("2", ORDINARY, thread="t2"), policy=REPLY)
        took = time.monotonic() - started
        assert_user_gets_a_cited_counterpoint(framing)
        assert ordinary.action == "ignore" and ordinary.reason == "label other"
        assert took < BOUND, f"{fault}: handling took {took:.1f} s"
        # nothing was lost on the way: both posts and the framing verdict are stored
        assert (await res.store.get_post("discord", "1")).text == post("1").text
        assert await res.store.get_post("discord", "2") is not None
        assert (await res.store.get_verdict("discord", "1")).label == "frames"
    if knobs is not None and fault not in ("disconnect",):
        assert fake_llm.requests, "the model was asked and failed (not skipped)"


async def test_a_brief_overload_is_retried_and_the_model_answers(tmp_path, fake_llm: FakeLLM):
    """One 503, then the server is fine: the user gets the model's counterpoint, not the template."""
    fake_llm.responder = obedient()
    fake_llm.status, fake_llm.fail_times = 503, 1
    async with build_resources(core_settings(tmp_path, fake_llm.base_url, llm={"deadline": 5.0})) as res:
        decision = await res.pipeline.handle(post("1"), policy=REPLY)
    assert decision.action == "reply" and decision.verdict.engine == "llm"
    assert decision.counterpoint.engine == "llm" and decision.counterpoint.citations
    assert fake_llm.fail_times == 0 and len(fake_llm.requests) == 3  # 503, judge, composer


async def test_the_model_coming_back_is_used_again(tmp_path, fake_llm: FakeLLM):
    """Down for one post, back for the next: degradation is per call, not sticky."""
    fake_llm.responder = obedient()
    fake_llm.garbage = True
    async with build_resources(core_settings(tmp_path, fake_llm.base_url)) as res:
        first = await res.pipeline.handle(post("1"), policy=REPLY)
        fake_llm.garbage = False
        second = await res.pipeline.handle(post("2", thread="t2"), policy=REPLY)
    assert first.counterpoint.engine == "template" and first.verdict.engine == "lexical"
    assert second.counterpoint.engine == "llm" and second.verdict.engine == "llm"


def long_thread() -> list[Post]:
    return thread(60, words=48)


@pytest.mark.parametrize("fault", ["down", "slow", "overloaded-429", "garbage", "disconnect"])
async def test_a_summary_arrives_without_the_model_and_says_why(tmp_path, fake_llm: FakeLLM, fault: str):
    knobs = FAULTS[fault]
    fake_llm.responder = summary_responder
    if knobs is not None:
        apply(fake_llm, knobs)
    settings = core_settings(tmp_path, fake_llm.base_url if knobs is not None else None)
    async with build_resources(settings) as res:
        started = time.monotonic()
        summary = await res.summarizer.summarize(long_thread(), thread_id="t1")
        took = time.monotonic() - started
    assert summary.engine == "extractive" and summary.points
    assert "extractive summary" in summary.note
    assert took < 20, f"{fault}: summarizing took {took:.1f} s"


async def test_one_failing_chunk_gives_a_partial_summary_with_a_note(tmp_path, fake_llm: FakeLLM):
    """Some chunks answered, one did not: the summary covers what it can and says so."""

    def responder(body: dict[str, Any]) -> Any:
        if shows_message(body, 0):
            return "no JSON for the first chunk"  # fails, and so does its repair turn
        return summary_responder(body)

    fake_llm.responder = responder
    settings = core_settings(tmp_path, fake_llm.base_url, summarize={"chunk_tokens": 600}, llm={"deadline": 5.0})
    async with build_resources(settings) as res:
        summary = await res.summarizer.summarize(long_thread(), thread_id="t1")
    assert summary.engine == "llm" and summary.partial
    assert "failed on 1 of" in summary.note and "leaves those messages out" in summary.note


async def test_slash_summarize_with_a_broken_model_shows_an_extractive_summary(tmp_path, fake_llm: FakeLLM):
    """What the person who typed /summarize sees when the model answers garbage: a summary all the same, marked
    extractive, with the reason in italics, in the deferred follow-up; no error message."""
    fake_llm.garbage = True
    async with FakeDiscord() as discord_fake:
        for text in ("Which quantization do you use for Qwen on a 3090?", "Q4_K_M works well for me.",
                     "Gemma 3 also runs fine with flash attention.", "Anyone tried speculative decoding?"):  # fmt: skip
            discord_fake.message_payload(discord_fake.general, discord_fake.bob, text)
        settings = core_settings(tmp_path, fake_llm.base_url, discord=discord_section(discord_fake))
        async with bot_with(settings):
            iid = await discord_fake.slash("summarize")
            follow = await discord_fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$", timeout=15)
    content = follow.body["content"]
    assert "Thread summary" in content and "extractive, no model" in content
    assert "The model failed on all" in content and "Something went wrong" not in content
    assert fake_llm.requests, "the model was asked first"
