"""Pure helpers of the model client: <think> stripping (whole and streamed), JSON extraction, schema errors,
Retry-After parsing, URL display, usage parsing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.llm.http import display_url, retry_after_seconds, usage_of
from bot.llm.structured import ThinkFilter, extract_json, parse_reply, schema_error, with_system_note
from bot.text.clean import strip_think

SAMPLES = [
    "<think>plan</think>\n\nAnswer here.",
    "Before <think>x</think> after <think>y</think> end.",
    "reasoning leaked from the template</think>The answer.",
    "Answer first <think>never closed",
    "No tags at all < 3 > 2.",
    "<THINK>upper</THINK>Case.",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_streamed_stripping_matches_whole_stripping_for_every_split(text: str):
    expected = strip_think(text)
    if "</think>" in text.lower() and "<think>" not in text.lower():
        expected = text.replace("</think>", "")  # already-streamed reasoning cannot be recalled; tag dropped
    for a, b in itertools.combinations(range(1, len(text)), 2):
        pieces = [text[:a], text[a:b], text[b:]]
        think = ThinkFilter()
        got = "".join(think.feed(p) for p in pieces) + think.flush()
        assert got.strip() == expected.strip(), (pieces, got)


def test_strip_think_cases():
    assert strip_think("<think>a</think>B") == "B"
    assert strip_think("leaked</think> B") == "B"
    assert strip_think("A <think>unfinished") == "A"
    assert strip_think("plain") == "plain"


def test_extract_json_tolerates_fences_chatter_and_braces_in_strings():
    assert extract_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('Sure! {"text": "a } brace", "n": [1, {"b": 2}]} Hope that helps {') == {
        "text": "a } brace",
        "n": [1, {"b": 2}],
    }
    assert extract_json('{broken} then {"ok": true}') == {"ok": True}
    assert extract_json('<think>{"no": 1}</think>{"yes": 2}') == {"yes": 2}
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json("[1, 2, 3]")


def test_schema_error_names_the_place():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert schema_error({"n": 3}, schema) is None
    assert schema_error({"n": "x"}, schema) == "at n: 'x' is not of type 'integer'"
    assert "'n' is a required property" in (schema_error({}, schema) or "")
    assert parse_reply('{"n": 1}', schema) == ({"n": 1}, "")
    assert parse_reply("nope", schema)[0] is None


def test_with_system_note_merges_into_the_leading_system_message():
    merged = with_system_note([{"role": "system", "content": "A"}, {"role": "user", "content": "q"}], "B")
    assert merged == [{"role": "system", "content": "A\n\nB"}, {"role": "user", "content": "q"}]
    added = with_system_note([{"role": "user", "content": "q"}], "B")
    assert added[0] == {"role": "system", "content": "B"} and len(added) == 2


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(later) or 0) <= 31


def test_display_url_hides_credentials():
    assert display_url("http://user:pw@host:8080/v1") == "http://host:8080/v1"
    assert display_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"


def test_usage_prefers_prompt_tokens_details_then_timings():
    both = {"usage": {"prompt_tokens": 9, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}}}
    assert usage_of(both | {"timings": {"cache_n": 7}}).cached_tokens == 4
    only_timings = {"usage": {"prompt_tokens": 9, "completion_tokens": 3}, "timings": {"cache_n": 7}}
    assert usage_of(only_timings).cached_tokens == 7
    assert usage_of({}).prompt_tokens == 0


def test_extract_json_refuses_a_deep_reply_at_once_without_recursion():
    from bot.llm.structured import extract_json, parse_reply
    from bot.text.jsonsafe import JsonTooDeep

    deep = 'Sure: {"label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(JsonTooDeep):
        extract_json(deep)
    with pytest.raises(JsonTooDeep):  # not a schema problem to repair: the caller leaves the post unjudged
        parse_reply(deep, {"type": "object"})
    assert extract_json('chatter {"a": [[1]]} more') == {"a": [[1]]}
