"""Votes feed back: per server, a theme that people find unhelpful is used less there.

A reply's themes are read from what it cites: a theme counts as used when all the sources of one of its vetted
paragraphs (any language) are among the reply's citations. Over the last WINDOW_DAYS, per theme and server:

    negative = Not helpful votes + replies a moderator dismissed
    helpful  = Helpful votes

A theme with negative >= MIN_NEGATIVE and negative > helpful is "used less" there: in the offline ranking it comes
after every other theme that matches the post, so it leads a reply only when nothing else fits the claim. It is
never switched off (a reply still needs a paragraph), and open vs closed still comes second at worst. /stats shows
the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.counterpoint.library import Library

if TYPE_CHECKING:  # the store loads with its first use, not with every command that composes a reply
    from bot.store.replies import ReplyFeedback

WINDOW_DAYS = 30
MIN_NEGATIVE = 2


@dataclass(frozen=True, slots=True)
class ThemeFeedback:
    theme: str
    replies: int = 0
    helpful: int = 0
    not_helpful: int = 0
    dismissed: int = 0

    @property
    def negative(self) -> int:
        return self.not_helpful + self.dismissed

    @property
    def used_less(self) -> bool:
        return self.negative >= MIN_NEGATIVE and self.negative > self.helpful


def themes_of(cited: Iterable[str], library: Library) -> list[str]:
    """The themes whose vetted paragraph (in some language) a reply citing `cited` carried."""
    ids = set(cited)
    out = []
    for key, theme in library.themes.items():
        variants = [theme.sources[:2], *(p.sources for p in theme.translations.values())]
        if any(v and set(v) <= ids for v in variants):
            out.append(key)
    return out


def tally(replies: Iterable[ReplyFeedback], library: Library) -> dict[str, ThemeFeedback]:
    counts: dict[str, list[int]] = {}
    for reply in replies:
        for key in themes_of(reply.cited, library):
            c = counts.setdefault(key, [0, 0, 0, 0])
            c[0] += 1
            c[1] += reply.helpful
            c[2] += reply.not_helpful
            c[3] += int(reply.dismissed)
    return {key: ThemeFeedback(key, *c) for key, c in counts.items()}


def used_less(feedback: Mapping[str, ThemeFeedback]) -> set[str]:
    return {key for key, fb in feedback.items() if fb.used_less}
