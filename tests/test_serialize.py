"""bot.serialize: JSON-ready dicts for the shared dataclasses, and back."""

from __future__ import annotations

import json

import pytest

from bot.models import Source
from bot.serialize import (
    counterpoint_from_dict,
    counterpoint_to_dict,
    source_from_dict,
    source_to_dict,
    summary_from_dict,
    summary_to_dict,
    verdict_from_dict,
    verdict_to_dict,
)
from tests.fakes.store_kit import counterpoint, summary, verdict


def through_json(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_round_trips_through_json():
    v, cp, s = verdict("frames", quote="win the race", reason="zero-sum"), counterpoint(), summary()
    src = Source("id1", "T", "P", "2024", "https://example.org", ("a",), ("f1", "f2"), via="V", added_by="m")
    assert verdict_from_dict(through_json(verdict_to_dict(v))) == v
    assert counterpoint_from_dict(through_json(counterpoint_to_dict(cp))) == cp
    assert summary_from_dict(through_json(summary_to_dict(s))) == s
    assert source_from_dict(through_json(source_to_dict(src))) == src


def test_shapes_are_plain_and_stable():
    d = verdict_to_dict(verdict("mentions"))
    assert d["frames"] is False and d["label"] == "mentions" and d["prefilter"]["cues"] == ["race", "china"]
    c = counterpoint_to_dict(counterpoint())
    assert c["citations"] == [{"id": "s1", "title": "AI Index", "url": "https://example.org/ai-index"}]
    s = summary_to_dict(summary())
    assert s["disagreements"] == [{"text": "Whether export controls work.", "source_ids": ["p2", "p3"]}]


def test_optional_keys_default():
    cp = counterpoint_from_dict({"text": "only text"})
    assert (cp.citations, cp.engine, cp.themes) == ((), "template", ())
    s = summary_from_dict({"thread_id": "t", "points": [{"text": "x"}]})
    assert s.points[0].source_ids == () and s.engine == "llm" and not s.partial


@pytest.mark.parametrize(
    ("parse", "data", "message"),
    [
        (verdict_from_dict, {"label": "maybe", "score": 1, "engine": "llm"}, "unknown verdict label"),
        (verdict_from_dict, {"label": "frames", "engine": "llm"}, "missing 'score'"),
        (verdict_from_dict, {"label": "frames", "score": 1, "engine": "gpt"}, "unknown engine"),
        (counterpoint_from_dict, {"text": "x", "citations": "nope"}, "must be a list"),
        (counterpoint_from_dict, {"text": "x", "citations": [{"title": "no id"}]}, "missing 'id'"),
        (summary_from_dict, {"thread_id": "t", "points": [{"text": "x", "source_ids": "p1"}]}, "list of strings"),
        (source_from_dict, ["not", "an", "object"], "expected an object"),
    ],
)
def test_bad_input_raises_value_error(parse, data, message):
    with pytest.raises(ValueError, match=message):
        parse(data)
