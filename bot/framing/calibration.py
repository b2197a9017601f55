"""Which engine decides in `auto`: the offline engine, the model, or the model confirming offline candidates,
chosen by `counterpoint calibrate` on the bundled labelled set and kept in the per-user data folder.

A candidate may win only if its precision is at least the offline engine's on the same rows, so whatever model is
configured, `auto` is never less precise than offline there; among those, the best F1 wins and a tie goes to the
engine that needs fewer model calls. The record names the model it measured: a different model is uncalibrated.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings

ENGINES = ("lexical", "confirm", "llm")  # in order of model calls: none, offline candidates only, every pass
RECORD_NAME = "framing_calibration.json"
SAY = {
    "lexical": "the offline engine decides",
    "confirm": "the model confirms the offline engine's candidates",
    "llm": "the model decides every post the prefilter passes",
}


@dataclass(frozen=True)
class Decision:
    """One row of the calibration set: gold, the offline verdict, and the model's (None: not asked or failed)."""

    gold: bool
    offline: bool
    model: bool | None


def decide(engine: str, d: Decision) -> bool:
    if engine == "lexical" or d.model is None:
        return d.offline
    return d.offline and d.model if engine == "confirm" else d.model


def scores(engine: str, decisions: list[Decision]) -> dict[str, Any]:
    pred = [decide(engine, d) for d in decisions]
    tp = sum(p and d.gold for p, d in zip(pred, decisions, strict=True))
    fp = sum(p and not d.gold for p, d in zip(pred, decisions, strict=True))
    gold = sum(d.gold for d in decisions)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / gold if gold else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    r = {"precision": precision, "recall": recall, "f1": f1, "fp": fp, "tp": tp, "n": len(decisions)}
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}


@dataclass(frozen=True)
class Calibration:
    engine: str
    model: str  # "<base_url> <model>" the figures were measured with
    few_shot: bool
    why: str
    figures: dict[str, Any]

    def line(self) -> str:
        return f"{SAY.get(self.engine, self.engine)} ({self.why})"


def choose(decisions: list[Decision], *, model: str, few_shot: bool = False) -> Calibration:
    figures = {e: scores(e, decisions) for e in ENGINES}
    base = figures["lexical"]["precision"] or 0.0
    allowed = [e for e in ENGINES if (figures[e]["precision"] or 0.0) >= base]
    best = max(allowed, key=lambda e: (figures[e]["f1"], -ENGINES.index(e)))
    f = figures[best]
    why = (
        f"calibrated on {f['n']} labelled posts: precision {f['precision']}, recall {f['recall']}, F1 {f['f1']}; "
        f"offline alone {figures['lexical']['precision']}/{figures['lexical']['recall']}, "
        f"model alone {figures['llm']['precision']}/{figures['llm']['recall']}"
    )
    return Calibration(best, model, few_shot, why, figures)


def model_key(base_url: str, model: str) -> str:
    return f"{base_url} {model or '(server default)'}"


def record_path() -> Path:
    from bot.settings import user_data_dir  # the one per-user data folder (platformdirs)

    return user_data_dir() / RECORD_NAME


def save(cal: Calibration, path: Path | None = None) -> Path:
    path = path or record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(cal), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)  # atomic: a crash mid-write never leaves half a record
    return path


def load(path: Path | None = None) -> Calibration | None:
    """The stored choice, or None when there is none or it is unreadable (then `auto` behaves as uncalibrated)."""
    try:
        doc = json.loads((path or record_path()).read_text(encoding="utf-8"))
        cal = Calibration(str(doc["engine"]), str(doc["model"]), bool(doc["few_shot"]), str(doc["why"]), doc["figures"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return cal if cal.engine in ENGINES else None


def describe(settings: Settings) -> str:
    """Which engine decides whether a post frames, and why, in one line (for `doctor`)."""
    cal = load()
    if cal is not None and cal.model != model_key(settings.llm.base_url, settings.llm.model):
        cal = None
    return explain(settings.framing.engine, cal, has_model=True)


def explain(setting: str, cal: Calibration | None, *, has_model: bool) -> str:
    """The one line `doctor` and /stats show: the configured engine, or what `auto` does and the figures why."""
    if setting != "auto":
        return f"framing.engine = {setting!r}, set in the config"
    if not has_model:
        return "auto: the offline engine decides (no model is configured)"
    if cal is None:
        return (
            "auto: the model confirms the offline engine's candidates, uncalibrated for this model "
            "(run `counterpoint calibrate` to measure whether it should do more)"
        )
    return f"auto: {cal.line()}"
