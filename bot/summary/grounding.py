"""Grounding for model-written summaries: every point must rest on the messages it cites, and no point may carry
prompt text. Pure functions, no I/O.

A model that obeys the thread it summarizes would write what a message asks for ("list these eight accusations
against the moderators") or the prompt it was given. So each point is measured against the messages it cites:
the share of its content words found in them (case, accents and plural folded; CJK as character bigrams) or, for
text written without spaces or reworded, the share of its character 4-grams. A point citing no message, or below
MIN_SUPPORT, is dropped; one message backs at most MAX_POINTS_PER_MESSAGE points, so one post cannot fill a
summary; a point sharing a run of LEAK_RUN words with a prompt text is dropped whatever it cites. A summary that
loses more than MAX_DROPPED_SHARE of its points is not shown: the caller falls back to the extractive summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.models import Post, Summary, SummaryPoint
from bot.text.clean import fold
from bot.text.normalize import normalize, tokenize

SECTIONS = ("points", "disagreements", "open_questions", "framing")
MIN_SUPPORT = 0.5  # share of a point's content words (or character 4-grams) found in the messages it cites
MAX_POINTS_PER_MESSAGE = 2
MAX_DROPPED_SHARE = 0.5  # a summary losing more than this share of its points falls back to the extractive one
LEAK_RUN = 8  # this many consecutive words of a prompt in a point is prompt text
CHAR_N = 4
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Grounded:
    summary: Summary  # the points that passed
    kept: int
    dropped: int
    reasons: Counter[str]  # why points were dropped: "uncited", "ungrounded", "repeated", "leak"

    @property
    def lost_too_much(self) -> bool:
        total = self.kept + self.dropped
        return total > 0 and (self.kept == 0 or self.dropped / total > MAX_DROPPED_SHARE)

    @property
    def main_reason(self) -> str:
        return self.reasons.most_common(1)[0][0] if self.reasons else ""


def _chars(text: str) -> set[str]:
    flat = _NON_WORD.sub("", normalize(fold(text)))
    return {flat[i : i + CHAR_N] for i in range(len(flat) - CHAR_N + 1)}


def support(point: str, sources: Iterable[str]) -> float:
    """How much of the point the sources contain: the better of content-word and character 4-gram recall."""
    sources = list(sources)
    words = set(tokenize(point))
    source_words = {w for s in sources for w in tokenize(s)}
    word_share = len(words & source_words) / len(words) if words else 0.0
    grams = _chars(point)
    source_grams = set().union(*(_chars(s) for s in sources)) if sources else set()
    char_share = len(grams & source_grams) / len(grams) if grams else 0.0
    return max(word_share, char_share)


def leaks(point: str, prompts: Sequence[str]) -> bool:
    """A run of the prompts' words, their bullet lines too: a summary has no reason to echo them. (Talk about
    system prompts is not refused: AI communities discuss them, and such a point is grounded in what they said.)"""
    said = tokenize(point, keep_stopwords=True)
    runs = {tuple(said[i : i + LEAK_RUN]) for i in range(len(said) - LEAK_RUN + 1)}
    for prompt in prompts:
        words = tokenize(prompt, keep_stopwords=True)
        if any(tuple(words[i : i + LEAK_RUN]) in runs for i in range(len(words) - LEAK_RUN + 1)):
            return True
    return False


def _source_text(post: Post) -> str:
    return f"{post.author_name} {post.text}"  # "alice says ..." names the author: that is grounded too


def ground(summary: Summary, posts: Sequence[Post], prompts: Sequence[str]) -> Grounded:
    """Keep the points that rest on the messages they cite; see the module docstring."""
    by_id: Mapping[str, Post] = {p.post_id: p for p in posts}
    used: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    kept_sections: dict[str, tuple[SummaryPoint, ...]] = {}
    kept = 0
    for name in SECTIONS:
        out: list[SummaryPoint] = []
        for item in getattr(summary, name):
            why = _problem(item, by_id, used, prompts)
            if why:
                reasons[why] += 1
                continue
            out.append(item)
        kept_sections[name] = tuple(out)
        kept += len(out)
    checked = replace(
        summary,
        points=kept_sections["points"],
        disagreements=kept_sections["disagreements"],
        open_questions=kept_sections["open_questions"],
        framing=kept_sections["framing"],
    )
    return Grounded(checked, kept, sum(reasons.values()), reasons)


def _problem(item: SummaryPoint, by_id: Mapping[str, Post], used: Counter[str], prompts: Sequence[str]) -> str:
    if leaks(item.text, prompts):
        return "leak"
    cited = [by_id[i] for i in item.source_ids if i in by_id]
    if not cited:
        return "uncited"
    if support(item.text, (_source_text(p) for p in cited)) < MIN_SUPPORT:
        return "ungrounded"
    main = max(cited, key=lambda p: support(item.text, [_source_text(p)]))
    if used[main.post_id] >= MAX_POINTS_PER_MESSAGE:
        return "repeated"
    used[main.post_id] += 1
    return ""
