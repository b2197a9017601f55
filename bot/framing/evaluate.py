"""Pure evaluation helpers for `counterpoint eval`: load a labelled JSONL set, compute the metrics, render them.

The headline is `frames` against the rest on the items that are not borderline; borderline items (where a careful
annotator could pick another label) are reported apart. Undefined ratios (precision with no predicted frames,
recall with no gold frames) are None, shown as "n/a" and serialised as null.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import InputError
from bot.models import LABELS, Label
from bot.text import jsonsafe
from bot.text.files import read_user_file


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    label: Label
    borderline: bool = False
    parent: str | None = None
    lang: str = ""
    group: str = ""  # the source URL: cross-validation keeps one source's excerpts on one side of a split
    targeted: bool = False  # picked by keyword, not at random: left out of false-fire rates


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Item
    predicted: Label
    prefilter_pass: bool
    engine: str
    score: float
    seconds: float


def _item(raw: Any, where: str) -> Item:
    if not isinstance(raw, dict):
        raise InputError(f"{where} is not a JSON object.")
    for key in ("id", "text", "label"):
        if key not in raw:
            raise InputError(f"{where} has no {key!r} field.")
    if not isinstance(raw["text"], str):
        raise InputError(f"{where}: 'text' must be a string.")
    if not raw["text"].strip():
        raise InputError(f"{where}: 'text' is empty.")
    if raw["label"] not in LABELS:
        raise InputError(f"{where}: 'label' must be one of {', '.join(LABELS)} (got {raw['label']!r}).")
    parent, lang, url = raw.get("parent"), raw.get("lang"), raw.get("url")
    return Item(str(raw["id"]), raw["text"], raw["label"], raw.get("borderline") is True,
                parent if isinstance(parent, str) else None, lang if isinstance(lang, str) else "",
                url if isinstance(url, str) else "", "TARGETED" in str(raw.get("source", "")))  # fmt: skip


def load_dataset(path: str | Path) -> list[Item]:
    """JSONL with id, text, label (and optional borderline, parent); InputError names the file and line."""
    p = Path(path)
    lines = read_user_file(p, name=f"Dataset {p}", folder="is a folder; give the JSONL file inside it").splitlines()
    items: list[Item] = []
    first_line: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = jsonsafe.loads(line)  # depth-limited: [[[[... thousands deep is a sentence, not a RecursionError
        except json.JSONDecodeError as exc:
            raise InputError(f"Dataset {p} line {n} is not valid JSON ({exc.msg}).") from None
        item = _item(raw, f"Dataset {p} line {n}")
        if item.id in first_line:
            raise InputError(f"Dataset {p} line {n}: id {item.id!r} is already used on line {first_line[item.id]}.")
        first_line[item.id] = n
        items.append(item)
    if not items:
        raise InputError(f"Dataset {p} has no items.")
    return items


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Precision/recall/F1 of `frames` vs the rest, the 3x3 confusion matrix, prefilter recall and pass rate."""
    gold = [o.item.label == "frames" for o in outcomes]
    pred = [o.predicted == "frames" for o in outcomes]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else None
    if precision == 0.0 or recall == 0.0:
        f1 = 0.0
    pf_frames = [o.prefilter_pass for o in outcomes if o.item.label == "frames"]
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for o in outcomes:
        confusion[o.item.label][o.predicted] += 1
    return {
        "n": len(outcomes), "gold_frames": sum(gold), "predicted_frames": sum(pred), "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1,
        "false_fire_rate": _ratio(fp, len(outcomes) - sum(gold)),
        "confusion": confusion,
        "prefilter": {"recall": _ratio(sum(pf_frames), len(pf_frames)),
                      "pass_rate": _ratio(sum(o.prefilter_pass for o in outcomes), len(outcomes))},
    }  # fmt: skip


def report(outcomes: Sequence[Outcome], *, dataset: str, engine: str, model_calls: int) -> dict[str, Any]:
    times = [o.seconds for o in outcomes]
    return {
        "dataset": dataset,
        "engine": engine,
        "items": len(outcomes),
        "headline": metrics([o for o in outcomes if not o.item.borderline]),
        "per_language": per_language(outcomes),
        "borderline": metrics([o for o in outcomes if o.item.borderline]),
        "engines_used": dict(Counter(o.engine for o in outcomes)),
        "model_calls": model_calls,
        "median_ms_per_item": round(statistics.median(times) * 1000, 3) if times else None,
        "total_seconds": round(sum(times), 3),
    }


def per_language(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Headline precision and recall for each language the dataset tags (rows without `lang` are "?")."""
    langs = sorted({o.item.lang or "?" for o in outcomes})
    out = {}
    for lang in langs:
        m = metrics([o for o in outcomes if not o.item.borderline and (o.item.lang or "?") == lang])
        out[lang] = {k: m[k] for k in ("n", "gold_frames", "precision", "recall", "false_fire_rate")}
    return out


def per_item(o: Outcome) -> dict[str, Any]:
    """Exactly the keys the CLI contract names."""
    return {"id": o.item.id, "label": o.item.label, "predicted": o.predicted, "prefilter_pass": o.prefilter_pass,
            "engine": o.engine, "score": o.score}  # fmt: skip


def _num(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:.1f}%" if pct else f"{x:.3f}"


def _block(title: str, m: dict[str, Any]) -> Iterable[str]:
    yield f"{title} (n={m['n']}): precision {_num(m['precision'])}  recall {_num(m['recall'])}  F1 {_num(m['f1'])}"
    if not m["n"]:
        return
    non_frames = m["n"] - m["gold_frames"]
    yield f"  false fires: {m['fp']}/{non_frames} non-frames ({_num(m['false_fire_rate'], pct=True)})"
    pf = m["prefilter"]
    yield f"  prefilter: recall {_num(pf['recall'])} on frames, pass rate {_num(pf['pass_rate'], pct=True)}"
    yield "  confusion (rows: gold, columns: predicted)"
    yield "    " + " " * 10 + "".join(f"{p:>10}" for p in LABELS)
    for g in LABELS:
        yield f"    {g:<10}" + "".join(f"{m['confusion'][g][p]:>10}" for p in LABELS)


def render_text(r: dict[str, Any]) -> str:
    used = ", ".join(f"{e} {n}" for e, n in sorted(r["engines_used"].items()))
    lines = [f"Dataset {r['dataset']}: {r['items']} items; engine {r['engine']} (verdicts by: {used})"]
    lines += _block("Headline, not borderline", r["headline"])
    lines += _block("Borderline, reported apart", r["borderline"])
    if len(r["per_language"]) > 1:
        lines.append("Per language (headline):")
        for lang, m in r["per_language"].items():
            lines.append(f"  {lang:<4} precision {_num(m['precision'])}  recall {_num(m['recall'])}  n={m['n']}")
    lines.append(f"Model calls: {r['model_calls']}; median {r['median_ms_per_item']} ms per item; "
                 f"total {r['total_seconds']} s")  # fmt: skip
    return "\n".join(lines)
