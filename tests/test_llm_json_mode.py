"""chat_json against FakeLLM: json_schema request shape, tolerant parsing, one repair, format fallback memory."""

from __future__ import annotations

import json

import pytest

from bot.errors import LLMBadResponse
from bot.llm.client import LLMClient
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture, llm_settings  # noqa: F401

SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["frames", "mentions", "other"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["label", "score"],
    "additionalProperties": False,
}
GOOD = {"label": "frames", "score": 0.9}
MESSAGES = [{"role": "system", "content": "Classify."}, {"role": "user", "content": "The AI race with China!"}]


def make_client(base_url: str, **kw) -> LLMClient:
    return LLMClient(llm_settings(base_url, **kw), backoff=0.01, backoff_max=0.05)


async def test_json_schema_request_and_valid_reply(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: GOOD
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA, name="verdict") == GOOD
        assert llm.json_mode == "json_schema"
    fmt = fake_llm.requests[0]["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": True}}
    system = fake_llm.requests[0]["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Classify.")
    assert json.dumps(SCHEMA, separators=(",", ":")) in system["content"]  # schema also described once
    assert len([m for m in fake_llm.requests[0]["messages"] if m["role"] == "system"]) == 1


async def test_tolerant_parsing_of_fenced_reply_with_thinking(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: '<think>{"label": "other"}?</think>Sure!\n```json\n' + json.dumps(GOOD) + "\n```"
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
    assert len(fake_llm.requests) == 1


async def test_schema_violation_is_repaired_once(fake_llm: FakeLLM):
    replies = iter([{"label": "race", "score": 0.9}, GOOD])
    fake_llm.responder = lambda body: next(replies)
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
    assert len(fake_llm.requests) == 2
    repair = fake_llm.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": json.dumps({"label": "race", "score": 0.9})}
    assert "label" in repair[-1]["content"] and "'race' is not one of" in repair[-1]["content"]
    assert fake_llm.requests[1]["response_format"]["type"] == "json_schema"


async def test_still_invalid_after_repair_raises(fake_llm: FakeLLM):
    fake_llm.responder = lambda body: "I would rather not answer in JSON."
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMBadResponse, match="even after one repair: no JSON object found"):
            await llm.chat_json(MESSAGES, SCHEMA)
    assert len(fake_llm.requests) == 2


async def test_refused_json_schema_falls_back_to_json_object_and_remembers(fake_llm: FakeLLM):
    fake_llm.reject_json_schema = True
    fake_llm.responder = lambda body: GOOD
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode == "json_object"
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
    kinds = [r["response_format"]["type"] for r in fake_llm.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]


async def test_both_formats_refused_falls_back_to_prompt_only(fake_llm: FakeLLM):
    fake_llm.reject_json_schema = fake_llm.reject_json_object = True
    fake_llm.responder = lambda body: "Here you go: " + json.dumps(GOOD)
    async with make_client(fake_llm.base_url) as llm:
        assert await llm.chat_json(MESSAGES, SCHEMA) == GOOD
        assert llm.json_mode == "prompt"
        await llm.chat_json(MESSAGES, SCHEMA)
    assert [r.get("response_format", {}).get("type") for r in fake_llm.requests] == [
        "json_schema",
        "json_object",
        None,
        None,
    ]
    assert "JSON Schema" in fake_llm.requests[2]["messages"][0]["content"]


async def test_forced_json_mode_does_not_fall_back(fake_llm: FakeLLM):
    fake_llm.reject_json_schema = True
    async with make_client(fake_llm.base_url, json_mode="json_schema") as llm:
        with pytest.raises(LLMBadResponse, match="400"):
            await llm.chat_json(MESSAGES, SCHEMA)
    assert len(fake_llm.requests) == 1


async def test_unrelated_400_does_not_downgrade_the_mode(fake_llm: FakeLLM):
    fake_llm.status, fake_llm.error_message = 400, "the request exceeds the available context size"
    async with make_client(fake_llm.base_url) as llm:
        with pytest.raises(LLMBadResponse, match="context size"):
            await llm.chat_json(MESSAGES, SCHEMA)
        assert llm.json_mode == "json_schema"  # nothing was accepted, so nothing is remembered
    assert len(fake_llm.requests) == 3
