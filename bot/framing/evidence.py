"""Evidence for the offline engine: named features a moderator can read, weighed by fitted weights.

The unit of evidence is a window of two consecutive sentences (a headline and its first line, a claim and its
"because"). In each window we look for a side of the US/China axis, a contest, and grammar linking them: a contest
noun close to a country, a scoreboard verb next to a country ("China is winning", "overtook America"), both
countries around one verb. Text-level features add explicit frame phrases, metaphors (Cold War, Sputnik), the
two capitals or "the two superpowers", and the contexts that make a contest word mean something else (a rejected
or dismissed frame, companies only, firms of one country, technical or security talk). The weights come from
bot/data/framing_weights.json, fitted by bot/framing/fit.py; the best window is the one they score highest.
A family's regex runs only when the literal screen finds its literals in the text (`Scan.may`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.framing import grammar as g
from bot.framing.cues import Scan
from bot.framing.weights import Weights, load_weights

Span = tuple[int, int]
SIDE_FAMILIES = ("us_noun", "us_adj", "cn_noun", "cn_adj", "pair", "cn_lab", "bloc")
FEATURE_FAMILIES = (
    *SIDE_FAMILIES, "contest", "scoreboard", "contest_weak", "phrase", "nation_phrase", "connector", "we", "counter",
    "cooperation", "tech", "cyber", "company", "ai", "metaphor", "two_powers", "cap_us", "cap_cn", "report", "dismiss",
)  # fmt: skip
WINDOW_FEATURES = (
    "sides:both", "sides:one", "sides:adjs", "sides:adj", "sides:lab", "contest", "rivalry", "link", "link_adj",
    "score", "score_both", "score_adj", "axis", "facing", "we",
)  # fmt: skip
TEXT_FEATURES = (
    "national-phrase", "phrase", "phrase2", "phrase-with-country", "metaphor", "two-powers", "capitals", "counter",
    "reported-dismissed", "cooperation", "technical", "security/arts", "companies-only", "one-country-firms",
    "no-side", "no-ai-context",
)  # fmt: skip
FEATURES = WINDOW_FEATURES + TEXT_FEATURES
# A frame reported in order to be dismissed is not the frame, whatever else the post says. The labelled set has too
# few such posts to fit a weight that large, so the labelling rule is applied as it is written.
VETO = ("reported-dismissed",)
VETO_PENALTY = 20.0


@dataclass(frozen=True)
class Evidence:
    logit: float
    quote: str
    reason: str
    features: dict[str, str]  # active feature -> the words that triggered it ("" when there is nothing to show)


def _side(w: dict[str, list[Span]]) -> str:
    """Which sides the window names: both countries (at least one as a noun), one, only adjectives, a lab."""
    us_n, cn_n = w["us_noun"] + w["pair"], w["cn_noun"] + w["pair"]
    if (us_n or w["us_adj"]) and (cn_n or w["cn_adj"]) and (us_n or cn_n):
        return "both"
    if w["us_adj"] and w["cn_adj"]:
        return "adjs"
    if us_n or cn_n:
        return "one"
    if w["us_adj"] or w["cn_adj"] or w["bloc"]:
        return "adj"
    return "lab" if w["cn_lab"] else "none"


def _grammar(w: dict[str, list[Span]]) -> list[str]:
    """Features that tie the contest to the countries."""
    us_n, cn_n = w["us_noun"] + w["pair"], w["cn_noun"] + w["pair"]
    nouns, soft = us_n + cn_n, w["us_adj"] + w["cn_adj"] + w["cn_lab"] + w["bloc"]
    feats = []
    if g.near(w["contest"], nouns, g.NEAR):
        feats.append("link")
    elif g.near(w["contest"], soft, g.NEAR):
        feats.append("link_adj")
    # the writer's "we"/"us" stands for the other side when only China is named and it sits right at a ranking verb
    we = [p for p in w["we"] if any(0 <= v[0] - p[1] <= 12 for v in w["scoreboard"])] if cn_n and not us_n else []
    us_side = us_n or we
    if g.near(w["scoreboard"], nouns, g.CLOSE):
        feats.append("score")
        if g.between(w["scoreboard"], us_side, cn_n) or g.between(w["scoreboard"], cn_n, us_side):
            feats.append("score_both")
    elif g.near(w["scoreboard"], soft, g.CLOSE):
        feats.append("score_adj")
    if g.axis(w["us_noun"], w["cn_noun"], w["pair"], w["contest"] + w["scoreboard"] + w["contest_weak"]):
        feats.append("axis")
    if g.facing(w["contest"] + w["contest_weak"], w["connector"], nouns):
        feats.append("facing")
    return [*feats, "we"] if we else feats


def _window(w: dict[str, list[Span]], low: str, parent_side: str) -> dict[str, str]:
    side = _side(w)
    if side == "none" and parent_side != "none":
        side = parent_side  # a reply whose countries are in the parent post ("exactly, and we're losing")
    feats = {f"sides:{side}": ""} if side != "none" else {}
    if w["contest"]:
        feats["contest"] = low[slice(*w["contest"][0])]
    elif w["scoreboard"] or w["contest_weak"]:
        feats["rivalry"] = low[slice(*(w["scoreboard"] or w["contest_weak"])[0])]
    return feats | dict.fromkeys(_grammar(w), "")


def _words(sp: dict[str, list[Span]], low: str, name: str) -> str:
    return ",".join(sorted({low[a:b] for a, b in sp[name]}))[:60]


def _text_level(sp: dict[str, list[Span]], low: str) -> dict[str, str]:
    f: dict[str, str] = {}
    countries = bool(sp["us_noun"] or sp["cn_noun"] or sp["pair"])
    national = {low[a:b] for a, b in sp["nation_phrase"]}
    phrases = {low[a:b] for a, b in sp["phrase"]} - national
    f |= {"national-phrase": _words(sp, low, "nation_phrase")} if national else {}
    f |= {"phrase": ",".join(sorted(phrases))[:60]} if phrases else {}
    f |= {"phrase2": ""} if len(phrases) > 1 else {}
    f |= {"phrase-with-country": ""} if phrases and countries else {}
    f |= {"metaphor": _words(sp, low, "metaphor")} if sp["metaphor"] else {}
    f |= {"two-powers": _words(sp, low, "two_powers")} if sp["two_powers"] else {}
    f |= {"capitals": ""} if sp["cap_us"] and sp["cap_cn"] else {}
    f |= {"counter": _words(sp, low, "counter")} if sp["counter"] else {}
    # "X says the US must win the race, but I think that's lobbying": a reported claim, then a dismissal after it
    if sp["report"] and sp["dismiss"] and sp["dismiss"][-1][0] > sp["report"][0][0]:
        f["reported-dismissed"] = _words(sp, low, "dismiss")
    f |= {"cooperation": ""} if sp["cooperation"] else {}
    f |= {"technical": _words(sp, low, "tech")} if sp["tech"] else {}
    f |= {"security/arts": ""} if sp["cyber"] else {}
    f |= {"companies-only": _words(sp, low, "company")} if sp["company"] and not countries else {}
    cn_firms, us_firms = {low[a:b] for a, b in sp["cn_lab"]}, {low[a:b] for a, b in sp["company"]}
    if (len(cn_firms) > 1 and not us_firms) or (len(us_firms) > 1 and not cn_firms):
        f["one-country-firms"] = ",".join(sorted(cn_firms | us_firms))[:60]
    if not any(sp[k] for k in SIDE_FAMILIES):
        f["no-side"] = ""
    if not (sp["ai"] or sp["cn_lab"]):
        f["no-ai-context"] = ""
    return f


def _spans(text: str) -> tuple[Scan, dict[str, list[Span]]]:
    scan = Scan.of(text, keep_lines=True)
    sp = {n: [m.span() for m in scan.finditer(n)] for n in FEATURE_FAMILIES}
    for side, a, b in scan.acronyms:
        sp[{"us": "us_noun", "cn": "cn_noun"}.get(side, "bloc")].append((a, b))
    g.demote_domestic(sp, scan.low)
    for spans in sp.values():
        spans.sort()
    return scan, sp


def parent_context(parent: str | None) -> tuple[str, bool]:
    """The sides a parent post names, as a window side ("both", "one", ...) or "none", and whether it talks AI."""
    if not parent or not parent.strip():
        return "none", False
    sp = _spans(parent)[1]
    return _side(sp), bool(sp["ai"] or sp["cn_lab"])


@dataclass(frozen=True)
class Extraction:
    """Everything the weights are applied to, computed once: per-window features (with their spans) and the
    text-level ones. Fitting reuses it for every candidate set of weights."""

    scan: Scan
    windows: list[tuple[Span, dict[str, str]]]
    text: dict[str, str]

    def best(self, weights: Weights) -> tuple[float, Span, dict[str, str]]:
        score, span, feats = max(((weights.total(f), s, f) for s, f in self.windows), key=lambda x: x[0])
        return score, span, feats | self.text

    def features(self, weights: Weights) -> dict[str, str]:
        return self.best(weights)[2]

    def logit(self, weights: Weights) -> float:
        feats = self.features(weights)
        vetoed = any(v in feats for v in VETO)
        return weights.bias + weights.total(feats) - (VETO_PENALTY if vetoed else 0.0)


def extract(text: str, parent: str | None = None) -> Extraction:
    scan, sp = _spans(text)
    starts = {k: [a for a, _ in v] for k, v in sp.items()}
    text_feats = _text_level(sp, scan.low)
    inherited, parent_ai = parent_context(parent) if "no-side" in text_feats else ("none", False)
    if inherited != "none":  # a reply whose countries are in the parent: "exactly, and we're losing"
        del text_feats["no-side"]
        text_feats["parent-sides"] = inherited
        if parent_ai:
            text_feats.pop("no-ai-context", None)
    windows = []
    sents = g.sentences(scan.low)
    for i in range(len(sents)):
        lo, hi = sents[i][0], sents[min(i + 1, len(sents) - 1)][1]
        w = {k: g.window_slice(v, starts[k], lo, hi) for k, v in sp.items()}
        windows.append(((lo, hi), _window(w, scan.low, inherited)))
    return Extraction(scan, windows, text_feats)


def score_text(text: str, *, parent: str | None = None, weights: Weights | None = None) -> Evidence:
    """The fitted logit of `frames`, the best window as the quote, and the features that decided, in words."""
    weights = weights or load_weights()
    ex = extract(text, parent)
    _, span, feats = ex.best(weights)
    vetoed = [v for v in VETO if v in feats]
    reason = weights.explain(feats)
    if vetoed:
        reason = f"{weights.explain({v: feats[v] for v in vetoed})}, which overrides: {reason}"
    return Evidence(round(ex.logit(weights), 3), g.quote_of(text, ex.scan, *span), reason, feats)
