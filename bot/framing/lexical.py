"""The offline half of the framing detector: a recall-first prefilter and a precision-first lexical engine.

Both are pure functions of the text (and of the parent post, when there is one). The prefilter decides which
posts deserve a model call; the lexical engine gives the verdict when no model is reachable. It weighs named
features (a side of the US/China axis, a contest, grammar that ties them together, metaphors, rejections) with
weights fitted on the bundled labelled set (bot/framing/fit.py), and would rather stay quiet than be wrong.

Every cue regex here runs only when the literal screen says its family can match (`Scan.may`, see
bot/framing/cue_screen.py): most posts name no side, and the screen lets them skip the side and contest scans.
"""

from __future__ import annotations

import math

from bot.framing.cues import Scan, families
from bot.framing.evidence import score_text
from bot.framing.grammar import LOCATIVE
from bot.models import Label, PrefilterResult, Verdict

SIDE_OF = {
    "us_noun": "us",
    "us_adj": "us",
    "cn_noun": "china",
    "cn_adj": "china",
    "pair": "pair",
    "cn_lab": "lab",
    "bloc": "bloc",
    "phrase": "phrase",
    "metaphor": "metaphor",
    "two_powers": "powers",
}


def _gate_hits(scan: Scan) -> dict[str, str]:
    """First matched word per side family, from one scan of the combined gate regex."""
    fams = families()
    hits: dict[str, str] = {}
    for m in scan.finditer("gate"):
        word = m.group()
        for name in SIDE_OF:
            if name not in hits and fams[name].pick(scan.is_ascii).fullmatch(word):
                hits[name] = word
                break
    for side, start, end in scan.acronyms:
        hits.setdefault({"us": "us_noun", "cn": "cn_noun"}.get(side, "bloc"), scan.nf[start:end])
    return hits


def prefilter(text: str) -> PrefilterResult:
    """Recall-first gate: a side (US, China, a Chinese lab, a bloc) plus a contest word, both countries named, a
    country as an actor, an explicit frame phrase or metaphor, or a contest word with a ranking verb ("who leads
    the race"). Returns the cues it matched, e.g. ("us:america", "contest:race")."""
    scan = Scan.of(text)
    hits = _gate_hits(scan)
    if not hits:
        # no side at all: only "leading the race", "win the war" (a contest noun and a ranking verb) goes on
        contest = scan.search("contest")
        ranking = contest and scan.search("scoreboard")  # most posts stop at contest
        if contest and ranking:
            return PrefilterResult(True, (f"contest:{contest.group()}", f"contest:{ranking.group()}"), 0.4)
        return PrefilterResult(False, (), 0.0)
    cues = [f"{SIDE_OF[name]}:{word}" for name, word in hits.items()]
    us = bool(hits.keys() & {"us_noun", "pair"})
    cn = bool(hits.keys() & {"cn_noun", "pair"})
    # recall first: both sides, a frame phrase or metaphor, the US against a Chinese lab, or a country as an actor
    passed = bool(hits.keys() & {"phrase", "metaphor", "two_powers"}) or (us and (cn or "cn_lab" in hits))
    if not passed and (us or cn) and _actor(scan):
        passed = True
        cues.append("country-as-actor")
    contest = scan.search("contest_all")
    if contest:
        cues.append(f"contest:{contest.group()}")
        passed = True  # any side cue (hits is non-empty) plus a contest word
    if us and cn:
        cues.append("pair")
    score = (
        1.0
        if hits.keys() & {"phrase", "metaphor"}
        else min(1.0, 0.4 + 0.15 * len(cues))
        if passed
        else min(0.3, 0.1 * len(cues))
    )
    return PrefilterResult(passed, tuple(dict.fromkeys(cues)), round(score, 3))


def _actor(scan: Scan) -> bool:
    """A country named as an actor, not as a place ("in China") or a firm's home ("China's Baidu")."""
    for name in ("us_noun", "cn_noun"):
        for m in scan.finditer(name):
            if not LOCATIVE.search(scan.low, max(0, m.start() - 12), m.start()) and not scan.low.startswith(
                "'s", m.end()
            ):
                return True
    return False


def widen(pf: PrefilterResult, text: str, parent: str | None) -> PrefilterResult:
    """A short reply ("they'll win it, easily") to a post that frames: the contest word is in the reply, the
    countries are in the parent. Pass it on, marked."""
    if pf.passed or not parent or not parent.strip():
        return pf
    contest = contest_cue(text)
    if contest is None or not prefilter(parent).passed:
        return pf
    return PrefilterResult(True, (*pf.cues, f"contest:{contest}", "parent"), 0.5)


def contest_cue(text: str) -> str | None:
    """The first contest word of a text, if any (for replies whose countries are in the parent)."""
    found = Scan.of(text).search("contest_all")
    return found.group() if found else None


def side_label(pf: PrefilterResult) -> Label:
    """Without a frame, a post that names a side of the US-China axis is `mentions`; anything else is `other`."""
    sides = {cue.split(":", 1)[0] for cue in pf.cues}
    return "mentions" if sides & {"us", "china", "lab", "pair"} else "other"


def lexical_verdict(
    text: str, *, threshold: float = 0.75, pf: PrefilterResult | None = None, parent: str | None = None
) -> Verdict:
    """Offline verdict: `frames` only when the evidence reaches `threshold` (settings.framing.lexical_threshold;
    the fitted operating point is 0.75). `pf` lets a caller pass a prefilter result it already has (for instance
    one widened by the parent post); `parent` lends its countries to a reply that names none."""
    if not text.strip():
        return Verdict("other", 1.0, "lexical", PrefilterResult(False), reason="empty text")
    pf = pf or widen(prefilter(text), text, parent)
    if not pf.passed:
        label = side_label(pf)
        reason = "names a side but no contest" if label == "mentions" else "no US/China contest cues"
        return Verdict(label, 0.9, "lexical", pf, reason=reason)
    evidence = score_text(text, parent=parent)
    p = 1.0 / (1.0 + math.exp(-evidence.logit))
    if p >= threshold:
        return Verdict("frames", round(p, 3), "lexical", pf, quote=evidence.quote, reason=evidence.reason)
    why = evidence.reason or "contest cues without the national frame"
    return Verdict(side_label(pf), round(1.0 - p, 3), "lexical", pf, reason=f"below threshold ({p:.2f}): {why}")
