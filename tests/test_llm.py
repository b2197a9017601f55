"""LLMClient against FakeLLM with real httpx: chat, errors, retries, deadline, concurrency, usage, health, tokens."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.errors import LLMBadResponse, LLMTimeout, LLMUnavailable
from bot.llm import transport
from bot.llm.client import LLMClient
from bot.llm.transport import refused
from bot.text.limits import estimate_tokens
from tests.fakes.fake_llm import DEFAULT_TEXT, FakeLLM, fake_llm_fixture, llm_settings, unused_base_url  # noqa: F401

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say something."}]


def make_client(base_url: str, **kw) -> LLMClient:
    return LLMClient(llm_settings(base_url, **kw), backoff=0.01, backoff_max=0.05)


async def test_chat_returns_text_usage_and_sends_settings(fake_llm: FakeLLM):
    async with make_client(fake_llm.base_url, temperature=0.3, max_tokens=99) as llm:
        result = await llm.chat(MESSAGES)
    assert result.text == DEFAULT_TEXT
    assert result.model == "fake-model" and result.finish_reason == "stop"
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    body = fake_llm.requests[0]
    assert (body["model"], body["temperature"], body["max_tokens"], body["stream"]) == ("fake-model", 0.3, 99, False)
    assert body["messages"] == MESSAGES
    assert "Authorization" not in fake_llm.headers[0]


async def test_usage_totals_accumulate_with_cached_prefix(fake_llm: FakeLLM):
    long_system = {"role": "system", "content": "Rules of the house. " * 40}
    async with make_client(fake_llm.base_url) as llm:
        first = await llm.chat([long_system, {"role": "user", "content": "one"}])
        second = await llm.chat([long_system, {"role": "user", "content": "two"}])
        assert first.usage.cached_tokens == 0
        assert second.usage.cached_tokens >= 150  # the shared system prompt, in the fake's 4-char tokens
        assert llm.calls == 2
        total = llm.usage_totals
    assert total.prompt_tokens == first.usage.prompt_tokens + second.usage.prompt_tokens
    assert total.completion_tokens == first.usage.completion_tokens + second.usage.completion_tokens
    assert total.cached_tokens == second.usage.cached_tokens


async def test_cached_tokens_read_from_llamacpp_timings(fake_llm: FakeLLM):
    fake_llm.usage_style = "timings"  # older llama.cpp: no prompt_tokens_details, only timings.cache_n
    async with make_client(fake_llm.base_url) as llm:
        await llm.chat(MESSAGES)
        again = await llm.chat(MESSAGES)
    assert again.usage.cached_tokens == again.usage.prompt_tokens > 0


async def test_think_block_stripped_from_chat(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: "<think>The user wants X. Plan.</think>\n\nThe answer."
    async with make_client(fake_llm.base_url) as llm:
        assert (await llm.chat(MESSAGES)).text == "The answer."


async def test_only_thinking_is_a_bad_response(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: "<think>still thinking when max_tokens ran out"
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMBadResponse, match="no text"):
            await llm.chat(MESSAGES)


async def test_empty_model_setting_uses_first_listed_model(fake_llm: FakeLLM):
    fake_llm.models = ["qwen3-4b", "other"]
    async with make_client(fake_llm.base_url, model="") as llm:
        await llm.chat(MESSAGES)
        await llm.chat(MESSAGES)
    assert [r["model"] for r in fake_llm.requests] == ["qwen3-4b", "qwen3-4b"]
    assert fake_llm.model_list_requests == 1


async def test_refused_connection_is_unavailable_quickly():
    url = unused_base_url()
    started = time.monotonic()
    async with make_client(url) as llm:
        with pytest.raises(LLMUnavailable, match=r"connection refused at http://127\.0\.0\.1:"):
            await llm.chat(MESSAGES)
    assert time.monotonic() - started < 1.0


async def test_slow_headers_beyond_deadline_time_out(fake_llm: FakeLLM):
    fake_llm.delay = 5.0
    started = time.monotonic()
    async with make_client(fake_llm.base_url, read_timeout=10.0) as llm:
        with pytest.raises(LLMTimeout, match=r"within 0\.3 s"):
            await llm.chat(MESSAGES, deadline=0.3)
    assert time.monotonic() - started < 1.0


async def test_a_timeout_marks_the_server_unavailable_for_a_while(fake_llm: FakeLLM):
    """A server that lists its models but never answers: after one timeout, callers fall back at once."""
    fake_llm.delay = 5.0
    async with make_client(fake_llm.base_url, read_timeout=10.0) as llm:
        assert await llm.available()
        with pytest.raises(LLMTimeout):
            await llm.chat(MESSAGES, deadline=0.3)
        probes = fake_llm.model_list_requests
        assert not await llm.available()
        assert "last call failed" in (await llm.health()).detail
        assert fake_llm.model_list_requests == probes  # answered from the trip, no new probe
        fake_llm.delay = 0.0
        assert (await llm.health(force=True)).ok  # an explicit probe sees the recovery


async def test_read_timeout_is_a_timeout_and_not_retried(fake_llm: FakeLLM):
    fake_llm.delay = 1.0
    async with make_client(fake_llm.base_url, read_timeout=0.2) as llm:
        with pytest.raises(LLMTimeout, match=r"sent nothing for 0\.2 s"):
            await llm.chat(MESSAGES)
    assert len(fake_llm.requests) == 1


async def test_429_honours_retry_after_then_succeeds(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.fail_times, fake_llm.retry_after = 429, 1, "0.4"
    started = time.monotonic()
    async with make_client(fake_llm.base_url) as llm:
        result = await llm.chat(MESSAGES)
    assert result.text == DEFAULT_TEXT
    assert len(fake_llm.requests) == 2
    assert time.monotonic() - started >= 0.4  # waited as asked, not the tiny test backoff


async def test_retry_after_beyond_deadline_gives_up_at_once(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.retry_after = 429, "30"
    started = time.monotonic()
    async with make_client(fake_llm.base_url, deadline=3.0) as llm:
        with pytest.raises(LLMUnavailable, match="asks to retry after 30 s"):
            await llm.chat(MESSAGES)
    assert len(fake_llm.requests) == 1
    assert time.monotonic() - started < 1.0


async def test_500_then_success(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.fail_times = 500, 2
    async with make_client(fake_llm.base_url, max_retries=2) as llm:
        assert (await llm.chat(MESSAGES)).text == DEFAULT_TEXT
        assert llm.calls == 1
    assert len(fake_llm.requests) == 3


async def test_503_loading_exhausts_retries(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.error_message = 503, "Loading model"
    async with make_client(fake_llm.base_url, max_retries=2) as llm:
        with pytest.raises(LLMUnavailable, match="still loading the model"):
            await llm.chat(MESSAGES)
    assert len(fake_llm.requests) == 3


async def test_dropped_keepalive_connection_is_retried(fake_llm: FakeLLM):
    fake_llm.disconnect_times = 1  # llama.cpp closing a kept-alive connection: RemoteProtocolError
    async with make_client(fake_llm.base_url) as llm:
        assert (await llm.chat(MESSAGES)).text == DEFAULT_TEXT
    assert len(fake_llm.requests) == 2


async def test_400_is_not_retried(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.error_message = 400, "the request exceeds the available context size"
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMBadResponse, match=r"rejected the request \(400\): the request exceeds"):
            await llm.chat(MESSAGES)
    assert len(fake_llm.requests) == 1


async def test_auth_failure_never_echoes_the_api_key(fake_llm: FakeLLM):
    secret = "sk-very-secret-123"
    fake_llm.status, fake_llm.error_message = 401, f"invalid api key {secret}"
    async with make_client(fake_llm.base_url, api_key=secret) as llm:
        with pytest.raises(LLMUnavailable) as caught:
            await llm.chat(MESSAGES)
        health = await llm.health()
    assert fake_llm.headers[0]["Authorization"] == f"Bearer {secret}"
    assert secret not in str(caught.value) and "llm.api_key" in str(caught.value)
    assert health.ok is True and secret not in health.detail
    assert len(fake_llm.requests) == 1


async def test_non_json_body_is_bad_response(fake_llm: FakeLLM):
    fake_llm.garbage = True
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMBadResponse, match="not JSON"):
            await llm.chat(MESSAGES)
        assert llm.calls == 0


async def test_concurrency_bound_is_respected(fake_llm: FakeLLM):
    fake_llm.delay = 0.15
    started = time.monotonic()
    async with make_client(fake_llm.base_url, concurrency=2) as llm:
        results = await asyncio.gather(*(llm.chat(MESSAGES) for _ in range(6)))
    assert len(results) == 6
    assert fake_llm.max_in_flight == 2
    assert time.monotonic() - started >= 0.4  # three waves of two


async def test_injected_http_client_is_left_open(fake_llm: FakeLLM):
    async with httpx.AsyncClient() as http:
        async with LLMClient(llm_settings(fake_llm.base_url), http) as llm:
            await llm.chat(MESSAGES)
        assert not http.is_closed


async def test_health_up_is_cached(fake_llm: FakeLLM):
    async with make_client(fake_llm.base_url) as llm:
        first = await llm.health()
        assert await llm.available()
        assert fake_llm.model_list_requests == 1
        await llm.health(force=True)
    assert first.ok and first.models == ("fake-model",) and "is up" in first.detail
    assert fake_llm.model_list_requests == 2


async def test_health_down_never_raises():
    url = unused_base_url()
    async with make_client(url) as llm:
        health = await llm.health()
        assert not await llm.available()
    assert not health.ok and health.models == ()
    assert health.detail == f"connection refused at {url}"


async def test_a_local_server_that_is_down_is_told_without_an_http_client():
    # the first probe asks the port directly: a refused loopback connection needs no httpx client (~35 ms)
    url = unused_base_url()
    async with make_client(url) as llm:
        assert not (await llm.health()).ok
        assert llm._t._http is None
    assert await refused(url, 1.0)


async def test_the_quick_refusal_check_defers_to_the_real_request(fake_llm: FakeLLM, monkeypatch):
    assert not await refused(fake_llm.base_url, 1.0)  # something listens: the real request asks it
    assert not await refused("http://192.0.2.1:9/v1", 1.0)  # not this machine: never decided without httpx
    assert not await refused("not a url", 1.0) and not await refused("", 1.0)
    url = unused_base_url()
    monkeypatch.setenv("HTTP_PROXY", unused_base_url())  # httpx would go through the proxy: ask httpx
    assert not await refused(url, 1.0)
    async with make_client(url) as llm:
        health = await llm.health()
        assert llm._t._http is not None
    assert not health.ok and health.detail == f"connection refused at {url}"


async def test_a_server_answering_json_nested_without_end_is_a_bad_response(fake_llm: FakeLLM):
    # Python's parser raises RecursionError on [[[[... a few thousand deep, which no handler expected: the CLI
    # showed a traceback. Every body the client parses now goes through the depth limit.
    fake_llm.raw_json = "[" * 100_000 + "]" * 100_000
    async with make_client(fake_llm.base_url, model="fake-model") as llm:
        health = await llm.health()
        assert not health.ok and "nested deeper than 64 levels" in health.detail
        with pytest.raises(LLMBadResponse, match="nested deeper than 64 levels"):
            await llm.chat(MESSAGES)


async def test_a_server_that_never_stops_sending_is_cut_off(fake_llm: FakeLLM, monkeypatch):
    # an answer past the bound (8 MB; 256 kB here) ends the request instead of filling the memory until the deadline
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 256 * 2**10)
    fake_llm.endless = b'{"choices": [' * 1000
    async with make_client(fake_llm.base_url, model="fake-model") as llm:
        with pytest.raises(LLMBadResponse, match="sent more than 256 kB in one answer"):
            await llm.chat(MESSAGES)


async def test_a_stream_that_never_ends_its_line_is_cut_off(fake_llm: FakeLLM, monkeypatch):
    monkeypatch.setattr(transport, "MAX_LINE_CHARS", 64 * 2**10)
    fake_llm.endless = b"data: " + b"x" * 4096
    async with make_client(fake_llm.base_url, model="fake-model") as llm:
        with pytest.raises(LLMBadResponse, match="streamed a line longer than 64 kB"):
            async for _text in llm.stream(MESSAGES):
                pass


async def test_stream_lines_split_as_server_sent_events_say():
    # CR, LF and CRLF end a line, also across chunk boundaries; U+2028 inside a JSON string does not (httpx's
    # aiter_lines splits there too, which cut such an event in two)
    async def chunks():
        for text in ("data: a\r", "\ndata: b\u2028c\n", "\n", "data: d\rtail"):
            yield text

    lines = [line async for line in transport.capped_lines(chunks(), "http://x")]
    assert [line for line in lines if line] == ["data: a", "data: b\u2028c", "data: d", "tail"]


async def test_a_streamed_event_nested_without_end_is_a_bad_response():
    from bot.llm.http import sse_events

    async def lines():
        yield "data: " + "[" * 100_000 + "]" * 100_000

    with pytest.raises(LLMBadResponse, match="not JSON"):
        async for _event in sse_events(lines(), "http://127.0.0.1:1/v1"):
            pass


async def test_health_while_loading(fake_llm: FakeLLM):
    fake_llm.loading = True
    async with make_client(fake_llm.base_url) as llm:
        health = await llm.health()
        fake_llm.loading = False
        assert (await llm.health(force=True)).ok
    assert not health.ok and "loading" in health.detail


async def test_count_tokens_uses_llamacpp_tokenize(fake_llm: FakeLLM):
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.count_tokens("Hello, world!") == 4
    assert fake_llm.tokenize_requests[0]["content"] == "Hello, world!"


async def test_count_tokens_unsupported_is_remembered(fake_llm: FakeLLM):
    fake_llm.tokenize = False
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.count_tokens("Hello") is None
        assert await llm.count_tokens("Hello again") is None
    assert len(fake_llm.tokenize_requests) == 1


async def test_count_tokens_when_down_is_none_and_retried_later():
    async with make_client(unused_base_url()) as llm:
        assert await llm.count_tokens("Hello") is None
        assert llm._tokenize_ok is None  # a refused connection says nothing about support


def test_estimate_tokens_is_conservative():
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcdef") == 2
    assert estimate_tokens("人工智能竞赛") == 6  # one per CJK character
    text = "The race framing ignores open research shared across borders. " * 5
    assert estimate_tokens(text) >= len(text.split())  # never fewer than the words
