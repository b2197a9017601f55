"""Evidence scoring for the offline engine: weighted, explainable features -> one logit.

The unit of evidence is a window of two consecutive sentences (a headline and its first line, a claim and its
"because"). In the best window we look for a side of the US/China axis, a contest, and grammar linking them: a
contest noun close to a country, a scoreboard verb next to a country ("China is winning", "overtook America"),
both countries around one verb. Text-level features add explicit frame phrases and subtract counter-framing,
technical, security and company-only contexts. Weights were set from the labelling rules, not fitted per item.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from bot.framing.cues import PREFILTER_CHARS, SENTENCE_END, Scan, families, normalize

Span = tuple[int, int]
FEATURE_FAMILIES = (
    "us_noun",
    "us_adj",
    "cn_noun",
    "cn_adj",
    "pair",
    "cn_lab",
    "bloc",
    "contest",
    "scoreboard",
    "contest_weak",
    "phrase",
    "nation_phrase",
    "connector",
    "we",
    "counter",
    "cooperation",
    "tech",
    "cyber",
    "company",
    "ai",
)
BIAS = -3.5
W = {
    # sides named in the window: both countries / one / both only as adjectives / an adjective or bloc / a lab
    "both": 2.0, "one": 1.0, "adjs": 1.0, "adj": 0.5, "lab": 0.3,
    # a contest noun / only a softer rivalry or ranking word
    "strong": 1.5, "weak": 0.75,
    # a contest noun within NEAR characters of a country / of an adjective, lab or bloc
    "link": 1.0, "link_adj": 0.5,
    # a scoreboard verb within CLOSE characters of a country / with one country before it and the other after it /
    # next to an adjective or lab only
    "score": 1.5, "score_both": 1.0, "score_adj": 0.5,
    "axis": 1.0,  # both countries side by side ("US-China", "美国和中国") with a contest word nearby
    "facing": 1.5,  # a contest word, a connector, a country: "race with China", "与美国的竞争"
    "we": 1.0,  # "we"/"us" right before a scoreboard verb, China named: "help us beat China"
    # explicit phrases anywhere: generic ("AI supremacy", "whoever controls AI") / a second one / national by
    # themselves ("Sputnik moment", "the nation that controls AI") / a generic phrase in a text naming a country
    "phrase": 2.0, "phrase2": 1.0, "nation_phrase": 3.0, "phrase_country": 1.0,
    # contexts that make a contest word mean something else
    "counter": -4.0, "cooperation": -1.0, "tech": -0.6, "cyber": -1.5, "company_only": -0.5, "no_ai": -0.5,
    "no_side": -1.5,  # nothing national anywhere: generic phrases ("AI arms race") alone are not the frame
}  # fmt: skip
NEAR, CLOSE = 40, 25
MAX_SPANS = 64  # per family and window
SAY = {  # feature -> words for the verdict's one-line reason
    "sides:both": "names the US and China", "sides:one": "names one country", "sides:adjs": "American and Chinese",
    "sides:adj": "a national adjective or bloc", "sides:lab": "a Chinese lab or model", "sides:none": "no country",
    "contest": "contest word", "rivalry": "rivalry word", "link": "contest tied to a country",
    "link_adj": "contest near a national adjective", "score": "a country ranked",
    "score_both": "one country ranked against the other", "score_adj": "a national product ranked",
    "axis": "the two countries paired", "facing": "contest against a country", "we": "'we' against China",
    "phrase": "frame phrase", "national-phrase": "national frame phrase", "counter": "rejects the frame",
    "cooperation": "cooperation", "technical": "technical context", "security/arts": "security or art context",
    "companies-only": "companies only", "phrase-with-country": "and a country named", "no-side": "no country",
    "no-ai-context": "no AI context",
}  # fmt: skip
QUOTE_CHARS = 300


@dataclass(frozen=True)
class Evidence:
    logit: float
    quote: str
    reason: str
    features: dict[str, float]


def _dist(a: Span, b: Span) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def _near(xs: list[Span], ys: list[Span], limit: int) -> tuple[Span, Span] | None:
    for x in xs:
        for y in ys:
            if _dist(x, y) <= limit:
                return x, y
    return None


def _between(verbs: list[Span], left: list[Span], right: list[Span]) -> bool:
    """A verb with one side before it and the other after it: "China overtook America", "美国领先中国"."""
    for v in verbs:
        before = any(s[1] <= v[0] and v[0] - s[1] <= NEAR for s in left)
        after = any(s[0] >= v[1] and s[0] - v[1] <= NEAR for s in right)
        if before and after:
            return True
    return False


def _facing(rivalry: list[Span], connectors: list[Span], nouns: list[Span]) -> bool:
    """contest-connector-country ("race against China") or connector-country-contest ("与美国的竞争")."""
    for c in connectors:
        after = [n for n in nouns if 0 <= n[0] - c[1] <= 12]
        before = [n for n in nouns if 0 <= c[0] - n[1] <= 3]  # "美国与" is not facing; "与美国" is
        if after and any(0 <= c[0] - x[1] <= 15 for x in rivalry):
            return True
        if after and not before and any(0 <= x[0] - a[1] <= 12 for x in rivalry for a in after):
            return True
    return False


def _axis(us_n: list[Span], cn_n: list[Span], pair: list[Span], rivalry: list[Span]) -> bool:
    axes = pair + [(min(u[0], c[0]), max(u[1], c[1])) for u in us_n for c in cn_n if _dist(u, c) <= 20]
    return _near(axes, rivalry, NEAR) is not None


def _slice(spans: list[Span], starts: list[int], lo: int, hi: int) -> list[Span]:
    """The spans starting inside [lo, hi), at most MAX_SPANS: a post repeating "US China" a thousand times must
    not cost a million comparisons."""
    first = bisect_left(starts, lo)
    return spans[first : min(bisect_left(starts, hi), first + MAX_SPANS)]


def _side(w: dict[str, list[Span]]) -> tuple[str, float]:
    """Which sides the window names: both countries (at least one as a noun), one, only adjectives, a lab."""
    us_n, cn_n = w["us_noun"] + w["pair"], w["cn_noun"] + w["pair"]
    if (us_n or w["us_adj"]) and (cn_n or w["cn_adj"]) and (us_n or cn_n):
        return "both", W["both"]
    if w["us_adj"] and w["cn_adj"]:
        return "adjs", W["adjs"]
    if us_n or cn_n:
        return "one", W["one"]
    if w["us_adj"] or w["cn_adj"] or w["bloc"]:
        return "adj", W["adj"]
    return ("lab", W["lab"]) if w["cn_lab"] else ("none", 0.0)


def _grammar(w: dict[str, list[Span]]) -> list[str]:
    """Features that tie the contest to the countries; their weights are looked up in W by name."""
    us_n, cn_n = w["us_noun"] + w["pair"], w["cn_noun"] + w["pair"]
    nouns, soft = us_n + cn_n, w["us_adj"] + w["cn_adj"] + w["cn_lab"] + w["bloc"]
    feats = []
    if _near(w["contest"], nouns, NEAR):
        feats.append("link")
    elif _near(w["contest"], soft, NEAR):
        feats.append("link_adj")
    # the writer's "we"/"us" stands for the other side when only China is named and it sits right at a ranking verb
    we = [p for p in w["we"] if any(0 <= v[0] - p[1] <= 12 for v in w["scoreboard"])] if cn_n and not us_n else []
    us_side = us_n or we
    if _near(w["scoreboard"], nouns, CLOSE):
        feats.append("score")
        if _between(w["scoreboard"], us_side, cn_n) or _between(w["scoreboard"], cn_n, us_side):
            feats.append("score_both")
    elif _near(w["scoreboard"], soft, CLOSE):
        feats.append("score_adj")
    if _axis(w["us_noun"], w["cn_noun"], w["pair"], w["contest"] + w["scoreboard"] + w["contest_weak"]):
        feats.append("axis")
    if _facing(w["contest"] + w["contest_weak"], w["connector"], nouns):
        feats.append("facing")
    return [*feats, "we"] if we else feats


def _window(sp: dict[str, list[Span]], starts: dict[str, list[int]], lo: int, hi: int) -> tuple[float, list[str]]:
    w = {k: _slice(v, starts[k], lo, hi) for k, v in sp.items()}
    side, score = _side(w)
    feats = [f"sides:{side}"]
    if w["contest"]:
        score, feats = score + W["strong"], [*feats, "contest"]
    elif w["scoreboard"] or w["contest_weak"]:
        score, feats = score + W["weak"], [*feats, "rivalry"]
    grammar = _grammar(w)
    return score + sum(W[g] for g in grammar), feats + grammar


def _text_level(sp: dict[str, list[Span]], low: str) -> tuple[float, list[str]]:
    score, feats = 0.0, list[str]()
    national = {low[a:b] for a, b in sp["nation_phrase"]}
    if national:
        score, feats = score + W["nation_phrase"], [*feats, "national-phrase:" + ",".join(sorted(national))[:60]]
    phrases = {low[a:b] for a, b in sp["phrase"]} - national
    if phrases:
        score += W["phrase"] + (W["phrase2"] if len(phrases) > 1 else 0.0)
        feats.append("phrase:" + ",".join(sorted(phrases))[:60])
        if sp["us_noun"] or sp["cn_noun"] or sp["pair"]:
            score, feats = score + W["phrase_country"], [*feats, "phrase-with-country"]
    if sp["counter"]:
        a, b = sp["counter"][0]
        score, feats = score + W["counter"], [*feats, f"counter:{low[a:b]}"]
    if sp["cooperation"]:
        score, feats = score + W["cooperation"], [*feats, "cooperation"]
    tech = {low[a:b] for a, b in sp["tech"]}
    if tech:
        score, feats = score + W["tech"] * min(3, len(tech)), [*feats, "technical"]
    if sp["cyber"]:
        score, feats = score + W["cyber"], [*feats, "security/arts"]
    if sp["company"] and not (sp["us_noun"] or sp["cn_noun"] or sp["pair"]):
        score, feats = score + W["company_only"], [*feats, "companies-only"]
    if not any(sp[k] for k in ("us_noun", "us_adj", "cn_noun", "cn_adj", "pair", "cn_lab", "bloc")):
        score, feats = score + W["no_side"], [*feats, "no-side"]
    if not (sp["ai"] or sp["cn_lab"]):
        score, feats = score + W["no_ai"], [*feats, "no-ai-context"]
    return score, feats


_LOCATIVE = re.compile(r"(?:\b(?:in|inside|within|across)(?: the)?|在|国内的?)\s?$")
_POSSESSIVE = re.compile(r"'s?\s?$")


def _demote_domestic(sp: dict[str, list[Span]], low: str) -> None:
    """With only one country named, "in China" and "China's Baidu" place a company, not a national side: the
    race "in China" between Baidu and Alibaba is domestic. Such mentions count as adjectives, not countries."""
    if sp["pair"] or (sp["us_noun"] and sp["cn_noun"]):
        return
    companies = sp["cn_lab"] + sp["company"]
    for noun, adj in (("us_noun", "us_adj"), ("cn_noun", "cn_adj")):
        keep = []
        for a, b in sp[noun]:
            owner = _POSSESSIVE.match(low, b, b + 3) and any(b < c[0] <= b + 4 for c in companies)
            if owner or _LOCATIVE.search(low, max(0, a - 12), a):
                sp[adj].append((a, b))
            else:
                keep.append((a, b))
        sp[noun] = keep


def _sentences(low: str) -> list[Span]:
    bounds, start = [], 0
    for m in SENTENCE_END.finditer(low):
        if m.start() > start:
            bounds.append((start, m.start()))
        start = m.end()
    if start < len(low):
        bounds.append((start, len(low)))
    return bounds or [(0, len(low))]


def _quote(text: str, scan: Scan, lo: int, hi: int) -> str:
    """The window as an exact substring of the post. Normalisation (fullwidth punctuation, invisible characters,
    whitespace) can change the text, so the post's own sentences are normalised one by one and matched."""
    candidate = scan.nf[lo:hi].strip()
    if candidate and candidate in text:
        return candidate[:QUOTE_CHARS]
    wanted = [scan.low[a:b].strip() for a, b in _sentences(scan.low) if lo <= a < hi]
    original = _sentences(text[: len(text) if len(text) < 4 * PREFILTER_CHARS else 4 * PREFILTER_CHARS])
    norms = [normalize(text[a:b], keep_lines=True).lower().strip() for a, b in original]
    for k in range(len(original)):
        if norms[k : k + len(wanted)] == wanted:
            return text[original[k][0] : original[k + len(wanted) - 1][1]].strip()[:QUOTE_CHARS]
    for k, norm in enumerate(norms):  # the window's first sentence alone
        if wanted and norm == wanted[0]:
            return text[original[k][0] : original[k][1]].strip()[:QUOTE_CHARS]
    return ""


def score_text(text: str) -> Evidence:
    scan = Scan.of(text, keep_lines=True)
    fams = families()
    sp = {n: [m.span() for m in fams[n].pick(scan.is_ascii).finditer(scan.low)] for n in FEATURE_FAMILIES}
    for side, a, b in scan.acronyms:
        sp[{"us": "us_noun", "cn": "cn_noun"}.get(side, "bloc")].append((a, b))
    _demote_domestic(sp, scan.low)
    for spans in sp.values():
        spans.sort()
    starts = {k: [a for a, _ in v] for k, v in sp.items()}
    sents = _sentences(scan.low)
    best, best_feats, best_span = -1.0, [], sents[0]
    for i in range(len(sents)):
        lo, hi = sents[i][0], sents[min(i + 1, len(sents) - 1)][1]
        score, feats = _window(sp, starts, lo, hi)
        if score > best:
            best, best_feats, best_span = score, feats, (lo, hi)
    extra, extra_feats = _text_level(sp, scan.low)
    logit = BIAS + best + extra
    words = [SAY.get(f.split(":")[0] if f.split(":")[0] in ("phrase", "national-phrase", "counter") else f, f)
             + (f" '{f.split(':', 1)[1]}'" if ":" in f and not f.startswith("sides:") else "")
             for f in best_feats + extra_feats]  # fmt: skip
    return Evidence(round(logit, 3), _quote(text, scan, *best_span), "; ".join(words), {"window": best, "text": extra})
