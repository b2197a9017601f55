"""Where the cues sit relative to each other: distances, "verb between two countries", "race against China",
sentences and two-sentence windows, and the quote that shows a moderator which window decided.

Spans are (start, end) offsets into the normalised, lower-cased text (bot/framing/cues.py Scan.low).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from bot.framing.cues import PREFILTER_CHARS, SENTENCE_END, Scan, normalize

Span = tuple[int, int]
NEAR, CLOSE = 40, 25
MAX_SPANS = 64  # per family and window
QUOTE_CHARS = 300


def dist(a: Span, b: Span) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def near(xs: list[Span], ys: list[Span], limit: int) -> tuple[Span, Span] | None:
    for x in xs:
        for y in ys:
            if dist(x, y) <= limit:
                return x, y
    return None


def between(verbs: list[Span], left: list[Span], right: list[Span]) -> bool:
    """A verb with one side before it and the other after it: "China overtook America", "美国领先中国"."""
    for v in verbs:
        before = any(s[1] <= v[0] and v[0] - s[1] <= NEAR for s in left)
        after = any(s[0] >= v[1] and s[0] - v[1] <= NEAR for s in right)
        if before and after:
            return True
    return False


def facing(rivalry: list[Span], connectors: list[Span], nouns: list[Span]) -> bool:
    """contest-connector-country ("race against China") or connector-country-contest ("与美国的竞争")."""
    for c in connectors:
        after = [n for n in nouns if 0 <= n[0] - c[1] <= 12]
        before = [n for n in nouns if 0 <= c[0] - n[1] <= 3]  # "美国与" is not facing; "与美国" is
        if after and any(0 <= c[0] - x[1] <= 15 for x in rivalry):
            return True
        if after and not before and any(0 <= x[0] - a[1] <= 12 for x in rivalry for a in after):
            return True
    return False


def axis(us_n: list[Span], cn_n: list[Span], pair: list[Span], rivalry: list[Span]) -> bool:
    axes = pair + [(min(u[0], c[0]), max(u[1], c[1])) for u in us_n for c in cn_n if dist(u, c) <= 20]
    return near(axes, rivalry, NEAR) is not None


def window_slice(spans: list[Span], starts: list[int], lo: int, hi: int) -> list[Span]:
    """The spans starting inside [lo, hi), at most MAX_SPANS: a post repeating "US China" a thousand times must
    not cost a million comparisons."""
    first = bisect_left(starts, lo)
    return spans[first : min(bisect_left(starts, hi), first + MAX_SPANS)]


LOCATIVE = re.compile(r"(?:\b(?:in|inside|within|across)(?: the)?|在|国内的?)\s?$")
_POSSESSIVE = re.compile(r"'s?\s?$")


def demote_domestic(sp: dict[str, list[Span]], low: str) -> None:
    """With only one country named, "in China" and "China's Baidu" place a company, not a national side: the
    race "in China" between Baidu and Alibaba is domestic. Such mentions count as adjectives, not countries."""
    if sp["pair"] or (sp["us_noun"] and sp["cn_noun"]):
        return
    companies = sp["cn_lab"] + sp["company"]
    for noun, adj in (("us_noun", "us_adj"), ("cn_noun", "cn_adj")):
        own_firms = {low[a:b] for a, b in sp["cn_lab" if noun == "cn_noun" else "company"]}
        rival_firms = sp["company" if noun == "cn_noun" else "cn_lab"]
        domestic = len(own_firms) > 1 and not rival_firms  # "Alibaba and Baidu battle for China's AI dominance"
        keep = []
        for a, b in sp[noun]:
            owner = _POSSESSIVE.match(low, b, b + 3) and any(b < c[0] <= b + 4 for c in companies)
            if domestic or owner or LOCATIVE.search(low, max(0, a - 12), a):
                sp[adj].append((a, b))
            else:
                keep.append((a, b))
        sp[noun] = keep


def sentences(low: str) -> list[Span]:
    bounds, start = [], 0
    for m in SENTENCE_END.finditer(low):
        if m.start() > start:
            bounds.append((start, m.start()))
        start = m.end()
    if start < len(low):
        bounds.append((start, len(low)))
    return bounds or [(0, len(low))]


def quote_of(text: str, scan: Scan, lo: int, hi: int) -> str:
    """The window as an exact substring of the post. Normalisation (fullwidth punctuation, invisible characters,
    whitespace) can change the text, so the post's own sentences are normalised one by one and matched."""
    candidate = scan.nf[lo:hi].strip()
    if candidate and candidate in text:
        return candidate[:QUOTE_CHARS]
    wanted = [scan.low[a:b].strip() for a, b in sentences(scan.low) if lo <= a < hi]
    original = sentences(text[: len(text) if len(text) < 4 * PREFILTER_CHARS else 4 * PREFILTER_CHARS])
    norms = [normalize(text[a:b], keep_lines=True).lower().strip() for a, b in original]
    for k in range(len(original)):
        if norms[k : k + len(wanted)] == wanted:
            return text[original[k][0] : original[k + len(wanted) - 1][1]].strip()[:QUOTE_CHARS]
    for k, norm in enumerate(norms):  # the window's first sentence alone
        if wanted and norm == wanted[0]:
            return text[original[k][0] : original[k][1]].strip()[:QUOTE_CHARS]
    return ""
