"""LLMClient.stream against FakeLLM's SSE: deltas, <think> split across chunks, stall, drop, deadline, retry."""

from __future__ import annotations

import time

import pytest

from bot.errors import LLMTimeout, LLMUnavailable
from bot.llm.client import LLMClient
from tests.fakes.fake_llm import DEFAULT_TEXT, FakeLLM, fake_llm_fixture, llm_settings  # noqa: F401

MESSAGES = [{"role": "user", "content": "Summarize the thread."}]


def make_client(base_url: str, **kw) -> LLMClient:
    return LLMClient(llm_settings(base_url, **kw), backoff=0.01, backoff_max=0.05)


async def collect(llm: LLMClient, got: list[str] | None = None, **kw) -> list[str]:
    got = [] if got is None else got
    async for delta in llm.stream(MESSAGES, **kw):
        got.append(delta)
    return got


async def test_stream_yields_deltas_and_records_usage(fake_llm: FakeLLM):
    async with make_client(fake_llm.base_url) as llm:
        deltas = await collect(llm)
        assert llm.calls == 1 and llm.usage_totals.completion_tokens > 0
    assert "".join(deltas) == DEFAULT_TEXT and len(deltas) > 3
    body = fake_llm.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_think_stripped_when_tags_are_split_across_chunks(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: [
        "<th",
        "ink>hidden</th",
        "ink>\n\nVisible ",
        "text <",
        "think>more</",
        "think>end",
    ]
    async with make_client(fake_llm.base_url) as llm:
        assert "".join(await collect(llm)) == "Visible text end"


async def test_stalled_stream_hits_the_read_timeout(fake_llm: FakeLLM):
    fake_llm.stall_after_chunks = 2
    got: list[str] = []
    started = time.monotonic()
    async with make_client(fake_llm.base_url, read_timeout=0.3) as llm:
        with pytest.raises(LLMTimeout, match="stalled mid-stream"):
            await collect(llm, got)
    assert "".join(got) == DEFAULT_TEXT[:12]  # the two chunks that did arrive
    assert time.monotonic() - started < 1.5
    assert len(fake_llm.requests) == 1


async def test_stalled_stream_hits_the_overall_deadline(fake_llm: FakeLLM):
    fake_llm.stall_after_chunks = 1
    async with make_client(fake_llm.base_url, read_timeout=10.0) as llm:
        with pytest.raises(LLMTimeout, match=r"within 0\.4 s"):
            await collect(llm, deadline=0.4)


async def test_dropped_stream_is_unavailable_and_not_retried(fake_llm: FakeLLM):
    fake_llm.drop_after_chunks = 2
    got: list[str] = []
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMUnavailable, match="dropped mid-stream after 12 characters"):
            await collect(llm, got)
        assert llm.calls == 0
    assert len(got) == 2 and len(fake_llm.requests) == 1


async def test_stream_retried_before_the_first_byte(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.fail_times = 503, 1
    async with make_client(fake_llm.base_url) as llm:
        assert "".join(await collect(llm)) == DEFAULT_TEXT
    assert len(fake_llm.requests) == 2


async def test_stream_slot_released_after_failure(fake_llm: FakeLLM):
    fake_llm.drop_after_chunks = 1
    async with make_client(fake_llm.base_url, concurrency=1) as llm:
        with pytest.raises(LLMUnavailable):
            await collect(llm)
        fake_llm.drop_after_chunks = None
        assert "".join(await collect(llm, deadline=2.0)) == DEFAULT_TEXT  # would time out if the slot leaked
