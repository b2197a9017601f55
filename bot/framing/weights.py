"""The offline engine's fitted weights: read from bot/data/framing_weights.json, written by `python -m
bot.framing.fit`. Reading them needs no scikit-learn. The bias is shifted so that the fitted operating point (the
threshold chosen out of sample) sits at probability 0.75, the default `framing.lexical_threshold`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

WEIGHTS_FILE = Path(__file__).resolve().parent.parent / "data" / "framing_weights.json"
OPERATING_P = 0.75
SAY = {  # feature -> words for the verdict's one-line reason
    "sides:both": "names the US and China", "sides:one": "names one country", "sides:adjs": "American and Chinese",
    "sides:adj": "a national adjective or bloc", "sides:lab": "a Chinese lab or model", "contest": "contest word",
    "rivalry": "rivalry word", "link": "contest tied to a country", "link_adj": "contest near a national adjective",
    "score": "a country ranked", "score_both": "one country ranked against the other",
    "score_adj": "a national product ranked", "axis": "the two countries paired", "facing": "contest against a country",
    "we": "'we' against China", "phrase": "frame phrase", "phrase2": "a second frame phrase",
    "national-phrase": "national frame phrase", "phrase-with-country": "phrase with a country named",
    "metaphor": "Cold War-style metaphor", "two-powers": "the two powers as rivals", "capitals": "both capitals",
    "counter": "rejects the frame", "reported-dismissed": "reports the frame to dismiss it",
    "cooperation": "cooperation", "technical": "technical context", "security/arts": "security or art context",
    "companies-only": "companies only", "one-country-firms": "firms of one country", "no-side": "no country",
    "no-ai-context": "no AI context", "parent-sides": "countries named in the parent post",
}  # fmt: skip
REASON_FEATURES = 5


@dataclass(frozen=True)
class Weights:
    bias: float
    weights: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def total(self, features: dict[str, str]) -> float:
        return sum(self.weights.get(name, 0.0) for name in features)

    def explain(self, features: dict[str, str]) -> str:
        """The features that moved the score most, strongest first: "contest word 'race' (+1.2); ..."."""
        ranked = sorted(features, key=lambda n: -abs(self.weights.get(n, 0.0)))
        parts = []
        for name in ranked[:REASON_FEATURES]:
            words = f" '{features[name]}'" if features[name] and not name.startswith("sides:") else ""
            w = self.weights.get(name, 0.0)
            parts.append(f"{SAY.get(name, name)}{words} ({w:+.1f})" if w else f"{SAY.get(name, name)}{words}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"bias": round(self.bias, 4), "weights": {k: round(v, 4) for k, v in self.weights.items()}, **self.meta}


def parse_weights(doc: Any, where: str) -> Weights:
    try:
        bias = float(doc["bias"])
        weights = {str(k): float(v) for k, v in doc["weights"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where} is not a weights file ({exc}); run `python -m bot.framing.fit`.") from None
    return Weights(bias, weights, {k: v for k, v in doc.items() if k not in ("bias", "weights")})


@cache
def load_weights(path: Path = WEIGHTS_FILE) -> Weights:
    """Read once per process; a missing or broken file is a packaging error worth a clear message."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Framing weights {path} cannot be read ({exc}); run `python -m bot.framing.fit`.") from None
    return parse_weights(doc, str(path))
