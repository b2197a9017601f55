"""Fitting the offline engine's weights, and measuring them only out of sample.

Training rows are the non-borderline framing excerpts plus the chatter; each row's features are extracted once
(bot/framing/evidence.py). Which two-sentence window counts depends on the weights, so a fit runs twice: first
choosing windows with PRIOR (the old hand-set weights), then with its own result. The decision threshold is picked
on out-of-fold scores inside the training data (recall-maximising at precision >= TARGET_PRECISION), never on
the rows it is then applied to. Folds are grouped by source URL. Only this module and fit.py import scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from bot.framing.evaluate import Item
from bot.framing.evidence import FEATURES, Extraction, extract
from bot.framing.lexical import prefilter
from bot.framing.weights import Weights

PRIOR = Weights(-3.5, {
    "sides:both": 2.0, "sides:one": 1.0, "sides:adjs": 1.0, "sides:adj": 0.5, "sides:lab": 0.3, "contest": 1.5,
    "rivalry": 0.75, "link": 1.0, "link_adj": 0.5, "score": 1.5, "score_both": 1.0, "score_adj": 0.5, "axis": 1.0,
    "facing": 1.5, "we": 1.0,
})  # fmt: skip
TARGET_PRECISION = 0.95
C = 1.0  # fixed, not tuned: with ~30 binary features there is little to gain and a tuning loop would need nesting
FOLDS, INNER_FOLDS = 5, 4


@dataclass
class Row:
    item: Item
    ex: Extraction
    passed: bool  # the prefilter's verdict: a row it stops is never `frames`
    chatter: bool

    @property
    def gold(self) -> bool:
        return self.item.label == "frames"


def rows_of(items: list[Item], *, chatter: bool) -> list[Row]:
    return [Row(i, extract(i.text, i.parent), prefilter(i.text).passed, chatter) for i in items]


def matrix(rows: list[Row], weights: Weights) -> np.ndarray:
    index = {name: k for k, name in enumerate(FEATURES)}
    x = np.zeros((len(rows), len(FEATURES)))
    for r, row in enumerate(rows):
        for name in row.ex.features(weights):
            if name in index:
                x[r, index[name]] = 1.0
    return x


def fit_weights(rows: list[Row]) -> Weights:
    y = np.array([r.gold for r in rows])
    weights = PRIOR
    for _ in range(2):
        model = LogisticRegression(C=C, max_iter=2000).fit(matrix(rows, weights), y)
        weights = Weights(float(model.intercept_[0]), dict(zip(FEATURES, map(float, model.coef_[0]), strict=True)))
    return weights


def logits(rows: list[Row], weights: Weights) -> np.ndarray:
    return np.array([r.ex.logit(weights) if r.passed else -99.0 for r in rows])


def pick_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    """The lowest logit cut whose precision stays >= TARGET_PRECISION (so recall is as high as it allows)."""
    best = float(scores.max()) + 1e-6
    for t in sorted(set(scores[scores > -99.0].tolist()), reverse=True):
        pred = scores >= t
        if (pred & gold).sum() / pred.sum() >= TARGET_PRECISION:
            best = t
    return best


def _trainable(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r.item.borderline]


def train(rows: list[Row]) -> tuple[Weights, float]:
    """Weights fitted on `rows` and a threshold chosen on their own out-of-fold scores."""
    rows = _trainable(rows)
    scores = np.zeros(len(rows))
    groups = [r.item.group or r.item.id for r in rows]
    for tr, te in GroupKFold(INNER_FOLDS).split(rows, groups=groups):
        w = fit_weights([rows[k] for k in tr])
        scores[te] = logits([rows[k] for k in te], w)
    threshold = pick_threshold(scores, np.array([r.gold for r in rows]))
    return fit_weights(rows), threshold


def cross_validate(rows: list[Row]) -> np.ndarray:
    """Out-of-fold `frames` decisions for every row (borderline rows too: they are scored, never trained on)."""
    pred = np.zeros(len(rows), dtype=bool)
    groups = [r.item.group or r.item.id for r in rows]
    for tr, te in GroupKFold(FOLDS).split(rows, groups=groups):
        weights, threshold = train([rows[k] for k in tr])
        pred[te] = logits([rows[k] for k in te], weights) >= threshold
    return pred


def _pr(rows: list[Row], pred: np.ndarray) -> dict[str, float | int | None]:
    gold = np.array([r.gold for r in rows], dtype=bool)
    tp, fp, fn = int((pred & gold).sum()), int((pred & ~gold).sum()), int((~pred & gold).sum())
    return {"n": len(rows), "frames": int(gold.sum()), "tp": tp, "fp": fp,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None}  # fmt: skip


def summary(rows: list[Row], pred: np.ndarray) -> dict[str, object]:
    """Headline (non-borderline framing rows), per language, borderline apart, chatter false fires, prefilter."""

    def sel(keep: Callable[[Row], bool]) -> tuple[list[Row], np.ndarray]:
        return [r for r in rows if keep(r)], np.array([p for r, p in zip(rows, pred, strict=True) if keep(r)], bool)

    langs: dict[str, dict[str, float | int | None]] = {}
    for lang in sorted({r.item.lang for r in rows if not r.chatter}):

        def in_lang(r: Row, lang: str = lang) -> bool:
            return not r.chatter and not r.item.borderline and r.item.lang == lang

        langs[lang] = _pr(*sel(in_lang))
    chat, chat_pred = sel(lambda r: r.chatter and not r.item.targeted)
    frames = [r for r in rows if r.gold and not r.chatter]
    ordinary = [r for r in chat if not r.gold]
    return {
        "headline": _pr(*sel(lambda r: not r.chatter and not r.item.borderline)),
        "borderline": _pr(*sel(lambda r: not r.chatter and r.item.borderline)),
        "per_language": langs,
        "chatter": {"n": len(chat), "fires": int(chat_pred.sum()),
                    "false_fire_rate": round(float(chat_pred.sum()) / len(chat), 4) if chat else None},
        "targeted_chatter": _pr(*sel(lambda r: r.chatter and r.item.targeted)),
        "prefilter": {"recall_on_frames": round(sum(r.passed for r in frames) / len(frames), 4),
                      "chatter_pass_rate": round(sum(r.passed for r in ordinary) / len(ordinary), 4)},
    }  # fmt: skip
