"""JSON-mode negotiation against replays of the servers that cannot run here (tests/fakes/replay_servers.py,
each shape with its source): every refusal moves to the next mode at once, without retries, and the mode that
worked is remembered for that server for the rest of the process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.errors import LLMBadResponse
from bot.llm.client import LLMClient, forget_json_modes
from tests.fakes.fake_llm import llm_settings
from tests.fakes.replay_servers import ReplayServer

SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["frames", "other"]}, "score": {"type": "number"}},
    "required": ["label", "score"],
    "additionalProperties": False,
}
GOOD = {"label": "frames", "score": 0.8}
MESSAGES = [{"role": "system", "content": "Classify."}, {"role": "user", "content": "The AI race with China!"}]


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    forget_json_modes()
    yield
    forget_json_modes()


def client(url: str, **kw) -> LLMClient:
    # model="" so the client resolves it from /v1/models, as it would against the real server
    return LLMClient(llm_settings(url, model="", max_retries=3, **kw), backoff=0.01, backoff_max=0.02)


def sent(server: ReplayServer) -> list[str]:
    """What each structured request asked for, in order."""
    kinds = []
    for path, body in server.requests:
        if path == "/api/chat":
            kinds.append("ollama_format")
        elif path != "/v1/chat/completions":
            kinds.append(path)
        elif "guided_json" in body:
            kinds.append("guided_json")
        else:
            fmt = body.get("response_format") or {}
            kinds.append(fmt.get("type", "prompt") + ("+schema" if "schema" in fmt else ""))
    return kinds


async def test_llama_cpp_python_500_moves_to_json_object_with_schema_at_once():
    async with ReplayServer("llama-cpp-python", GOOD) as server:
        async with client(server.base_url) as llm:
            assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
            assert llm.json_mode_label == "json_object with schema"
        # one 500, never retried (three retries were 9.5 s of `check` before), then the schema in json_object
        assert sent(server) == ["json_schema", "json_object+schema"]
        assert server.requests[1][1]["response_format"]["schema"] == SCHEMA
        # a later client for the same server starts at the mode that worked
        async with client(server.base_url) as llm:
            assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
            assert llm.json_mode == "json_object"
        assert sent(server)[2:] == ["json_object+schema"]


async def test_vllm_current_takes_json_schema():
    async with ReplayServer("vllm", GOOD) as server, client(server.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode == "json_schema"
    assert sent(server) == ["json_schema"]
    assert server.requests[0][1]["model"] == "Qwen/Qwen3-4B"


async def test_vllm_before_json_schema_support_falls_back_to_guided_json():
    async with ReplayServer("vllm-0.5.4", GOOD) as server, client(server.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode_label.startswith("guided_json")
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
    assert sent(server) == ["json_schema", "guided_json", "guided_json"]
    assert server.requests[1][1]["guided_json"] == SCHEMA


async def test_lmstudio_takes_json_schema():
    async with ReplayServer("lmstudio", GOOD) as server, client(server.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode == "json_schema"
    assert sent(server) == ["json_schema"]


async def test_lmstudio_refusal_of_json_object_and_its_200_for_a_missing_endpoint():
    """Starting below json_schema (say, another server once answered at this URL): LM Studio's 400 for
    json_object and its 200-with-an-error for /api/chat both count as refusals, so prompt-only answers."""
    async with ReplayServer("lmstudio", GOOD) as server:
        server.prose = "Here it is: " + json.dumps(GOOD)
        async with client(server.base_url) as llm:
            llm._json_mode = "json_object"
            assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
            assert llm.json_mode == "prompt"
        assert sent(server) == ["json_object+schema", "ollama_format", "prompt"]


async def test_lmstudio_forced_json_object_fails_once_with_its_message():
    async with ReplayServer("lmstudio", GOOD) as server, client(server.base_url, json_mode="json_object") as llm:
        with pytest.raises(LLMBadResponse, match="must be 'json_schema' or 'text'"):
            await llm.chat_json(MESSAGES, SCHEMA)
    assert sent(server) == ["json_object+schema"]


async def test_ollama_takes_json_schema_on_v1():
    async with ReplayServer("ollama", GOOD) as server, client(server.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode == "json_schema"
    assert sent(server) == ["json_schema"]
    assert server.requests[0][1]["model"] == "qwen3:4b"


async def test_ollama_native_format_request_and_reply():
    async with ReplayServer("ollama", GOOD) as server, client(server.base_url) as llm:
        llm._json_mode = "ollama_format"
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode_label == "Ollama format (native /api/chat)"
        assert llm.usage_totals.prompt_tokens == 42 and llm.usage_totals.completion_tokens == 9
    path, body = server.requests[0]
    assert path == "/api/chat" and body["format"] == SCHEMA and body["stream"] is False
    assert body["model"] == "qwen3:4b" and body["options"]["num_predict"] > 0


async def test_ollama_04_refuses_a_schema_in_format_at_once():
    async with ReplayServer("ollama-0.4", GOOD) as server:
        server.prose = json.dumps(GOOD)  # the model follows the schema in the prompt
        async with client(server.base_url) as llm:
            llm._json_mode = "ollama_format"
            assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
            assert llm.json_mode == "prompt"
        assert sent(server) == ["ollama_format", "prompt"]  # the 400 was not retried


async def test_ollama_04_with_json_object_set_by_the_user():
    """Ollama before 0.5 drops json_schema silently (README: set llm.json_mode = "json_object" there)."""
    async with ReplayServer("ollama-0.4", GOOD) as server, client(server.base_url, json_mode="json_object") as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
    assert sent(server) == ["json_object+schema"]


async def test_ollama_04_silently_ignored_json_schema_gets_one_repair_then_fails():
    async with ReplayServer("ollama-0.4", GOOD) as server, client(server.base_url) as llm:
        with pytest.raises(LLMBadResponse, match="even after one repair"):
            await llm.chat_json(MESSAGES, SCHEMA)
    assert sent(server) == ["json_schema", "json_schema"]


async def test_vllm_tokenize_counts():
    async with ReplayServer("vllm", GOOD) as server, client(server.base_url) as llm:
        assert await llm.count_tokens("one two three") == 3


async def test_lmstudio_tokenize_200_error_means_estimates():
    async with ReplayServer("lmstudio", GOOD) as server, client(server.base_url) as llm:
        assert await llm.count_tokens("one two three") is None
        assert await llm.count_tokens("again") is None
    assert server.paths.count("/tokenize") == 1  # remembered as unsupported
