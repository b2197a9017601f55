"""Integration against the REAL embedded llama.cpp server (SmolLM2-135M). Structure only, never wording: the model
is far too small to judge, it proves the plumbing. Skips with the reason when `counterpoint model fetch` has not run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.framing.detector import Detector
from bot.llm import embedded as localmodel
from bot.llm.client import LLMClient
from bot.settings import load_settings

pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(localmodel.missing() is not None, reason=f"embedded model: {localmodel.missing()}"),
    pytest.mark.asyncio(loop_scope="module"),
]

LONG_STATIC = "You are a careful assistant for an AI community. " * 40


def settings_for(url: str):
    os.environ["COUNTERPOINT_LLM__BASE_URL"] = url
    try:
        s = load_settings()
    finally:
        del os.environ["COUNTERPOINT_LLM__BASE_URL"]
    return s.model_copy(
        update={"llm": s.llm.model_copy(update={"max_tokens": 48, "deadline": 120.0, "read_timeout": 60.0})}
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[localmodel.EmbeddedServer]:
    srv = localmodel.EmbeddedServer(startup_timeout=180)
    await srv.start()
    yield srv
    await srv.stop()


async def test_json_schema_verdict_parses(server):
    settings = settings_for(server.base_url)
    async with LLMClient(settings.llm) as llm:
        verdict = await Detector.from_settings(settings, llm).detect(
            "The AI arms race with China will decide who rules the world.", engine="llm"
        )
    # whatever the tiny model thinks, the verdict is well-formed and came from the model (or fell back cleanly)
    assert verdict.label in ("frames", "mentions", "other")
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.engine in ("llm", "lexical")
    assert verdict.quote == "" or verdict.quote in "The AI arms race with China will decide who rules the world."


async def test_chat_json_against_the_schema(server):
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["yes", "no"]}, "n": {"type": "integer"}},
        "required": ["label", "n"],
        "additionalProperties": False,
    }
    async with LLMClient(settings_for(server.base_url).llm) as llm:
        data = await llm.chat_json([{"role": "user", "content": "Answer yes and the number 3."}], schema)
        assert data["label"] in ("yes", "no") and isinstance(data["n"], int)
        assert llm.json_mode in ("json_schema", "json_object", "prompt")


async def test_streaming_yields_text(server):
    async with LLMClient(settings_for(server.base_url).llm) as llm:
        chunks = [c async for c in llm.stream([{"role": "user", "content": "Say hello to the community."}])]
    assert len(chunks) >= 2 and "".join(chunks).strip()


async def test_two_concurrent_requests(server):
    async with LLMClient(settings_for(server.base_url).llm) as llm:
        a, b = await asyncio.gather(
            llm.chat([{"role": "user", "content": "Name a colour."}]),
            llm.chat([{"role": "user", "content": "Name a fruit."}]),
        )
    assert a.text.strip() and b.text.strip()


async def test_prompt_cache_is_reused_on_the_second_call(server):
    messages = [{"role": "system", "content": LONG_STATIC}, {"role": "user", "content": "One word: hi."}]
    async with LLMClient(settings_for(server.base_url).llm) as llm:
        await llm.chat(messages, max_tokens=4)
        second = await llm.chat([*messages[:1], {"role": "user", "content": "One word: bye."}], max_tokens=4)
    assert second.usage.cached_tokens > 100, second.usage


async def test_count_tokens_uses_the_server(server):
    async with LLMClient(settings_for(server.base_url).llm) as llm:
        n = await llm.count_tokens("Open models are built all over the world.")
    assert n is not None and 5 <= n <= 30


async def test_503_while_loading_is_waited_out():
    """A client that asks before the model has loaded gets its answer once loading ends, not an error."""
    srv = localmodel.EmbeddedServer(startup_timeout=180)
    binary = localmodel.server_binary()
    assert binary is not None
    proc = await asyncio.create_subprocess_exec(
        str(binary), "-m", str(localmodel.model_path()), "--host", "127.0.0.1", "--port", str(srv.port),
        "-c", "2048", "--no-jinja", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        s = settings_for(srv.base_url)
        llm_settings = s.llm.model_copy(update={"max_retries": 10, "model": "smollm2"})
        async with LLMClient(llm_settings, backoff=0.2, backoff_max=1.0) as llm:
            result = await llm.chat([{"role": "user", "content": "Say ok."}], max_tokens=4)
        assert result.text.strip()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


@pytest.mark.timeout(900)
async def test_demo_runs_through_the_embedded_model():
    """`counterpoint demo --embedded-model` starts and stops its own server and finishes, whatever the model says."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--embedded-model",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=900)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "Judging and writing with the model server at http://127.0.0.1:" in text
    assert "Thread summary" in text and "Moderator digest" in text
    assert text.count("-> ") >= 14  # every post got a verdict line
    assert "Traceback" not in err.decode()
