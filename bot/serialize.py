"""Pure conversions between the shared dataclasses and JSON-ready dicts.

Used by the store (JSON columns) and by the CLI's --json output. `*_to_dict` always returns plain dicts, lists,
strings and numbers; `*_from_dict` accepts what `*_to_dict` wrote (missing optional keys take their defaults) and
raises ValueError for anything it cannot use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from bot.models import (
    LABELS,
    Citation,
    Counterpoint,
    Engine,
    Label,
    PrefilterResult,
    Source,
    Summary,
    SummaryPoint,
    Thread,
    Verdict,
)

ENGINES: tuple[Engine, ...] = ("llm", "lexical", "template", "extractive", "none")


def _req(data: Mapping[str, Any], key: str, kind: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {kind}, got {type(data).__name__}")
    if key not in data:
        raise ValueError(f"{kind} is missing {key!r}")
    return data[key]


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _engine(value: Any) -> Engine:
    if value not in ENGINES:
        raise ValueError(f"unknown engine {value!r}")
    return cast(Engine, value)


def citation_to_dict(c: Citation) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "url": c.url}


def citation_from_dict(data: Mapping[str, Any]) -> Citation:
    return Citation(
        id=str(_req(data, "id", "citation")), title=str(data.get("title", "")), url=str(_req(data, "url", "citation"))
    )


def counterpoint_to_dict(cp: Counterpoint) -> dict[str, Any]:
    return {
        "text": cp.text,
        "citations": [citation_to_dict(c) for c in cp.citations],
        "engine": cp.engine,
        "themes": list(cp.themes),
    }


def counterpoint_from_dict(data: Mapping[str, Any]) -> Counterpoint:
    citations = data.get("citations") or []
    if not isinstance(citations, list | tuple):
        raise ValueError("counterpoint citations must be a list")
    return Counterpoint(
        text=str(_req(data, "text", "counterpoint")),
        citations=tuple(citation_from_dict(c) for c in citations),
        engine=_engine(data.get("engine", "template")),
        themes=_strs(data.get("themes")),
    )


def prefilter_to_dict(p: PrefilterResult) -> dict[str, Any]:
    return {"passed": p.passed, "cues": list(p.cues), "score": p.score}


def prefilter_from_dict(data: Mapping[str, Any]) -> PrefilterResult:
    return PrefilterResult(
        passed=bool(_req(data, "passed", "prefilter")),
        cues=_strs(data.get("cues")),
        score=float(data.get("score", 0.0)),
    )


def verdict_to_dict(v: Verdict) -> dict[str, Any]:
    return {
        "label": v.label,
        "frames": v.frames,
        "score": v.score,
        "engine": v.engine,
        "prefilter": prefilter_to_dict(v.prefilter),
        "quote": v.quote,
        "reason": v.reason,
    }


def verdict_from_dict(data: Mapping[str, Any]) -> Verdict:
    label = _req(data, "label", "verdict")
    if label not in LABELS:
        raise ValueError(f"unknown verdict label {label!r}")
    return Verdict(
        label=cast(Label, label),
        score=float(_req(data, "score", "verdict")),
        engine=_engine(_req(data, "engine", "verdict")),
        prefilter=prefilter_from_dict(data.get("prefilter") or {"passed": False}),
        quote=str(data.get("quote", "")),
        reason=str(data.get("reason", "")),
    )


def _point_to_dict(p: SummaryPoint) -> dict[str, Any]:
    return {"text": p.text, "source_ids": list(p.source_ids)}


def _points_from(value: Any) -> tuple[SummaryPoint, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError("summary points must be a list")
    return tuple(
        SummaryPoint(text=str(_req(p, "text", "summary point")), source_ids=_strs(p.get("source_ids"))) for p in value
    )


def summary_to_dict(s: Summary) -> dict[str, Any]:
    return {
        "thread_id": s.thread_id,
        "points": [_point_to_dict(p) for p in s.points],
        "disagreements": [_point_to_dict(p) for p in s.disagreements],
        "open_questions": [_point_to_dict(p) for p in s.open_questions],
        "framing": [_point_to_dict(p) for p in s.framing],
        "engine": s.engine,
        "covered_until": s.covered_until,
        "message_count": s.message_count,
        "partial": s.partial,
        "note": s.note,
    }


def summary_from_dict(data: Mapping[str, Any]) -> Summary:
    return Summary(
        thread_id=str(_req(data, "thread_id", "summary")),
        points=_points_from(_req(data, "points", "summary")),
        disagreements=_points_from(data.get("disagreements")),
        open_questions=_points_from(data.get("open_questions")),
        framing=_points_from(data.get("framing")),
        engine=_engine(data.get("engine", "llm")),
        covered_until=str(data.get("covered_until", "")),
        message_count=int(data.get("message_count", 0)),
        partial=bool(data.get("partial", False)),
        note=str(data.get("note", "")),
    )


def thread_to_dict(t: Thread) -> dict[str, str]:
    return {
        "platform": t.platform,
        "thread_id": t.thread_id,
        "title": t.title,
        "channel_id": t.channel_id,
        "url": t.url,
    }


def source_to_dict(s: Source) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "date": s.date,
        "url": s.url,
        "themes": list(s.themes),
        "facts": list(s.facts),
        "via": s.via,
        "lang": s.lang,
        "guild_id": s.guild_id,
        "added_by": s.added_by,
    }


def source_from_dict(data: Mapping[str, Any]) -> Source:
    return Source(
        id=str(_req(data, "id", "source")),
        title=str(_req(data, "title", "source")),
        publisher=str(data.get("publisher", "")),
        date=str(data.get("date", "")),
        url=str(_req(data, "url", "source")),
        themes=_strs(data.get("themes")),
        facts=_strs(data.get("facts")),
        via=str(data.get("via", "")),
        lang=str(data.get("lang", "en")),
        guild_id=str(data.get("guild_id", "")),
        added_by=str(data.get("added_by", "")),
    )
