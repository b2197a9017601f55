"""A literal screen in front of the cue regexes: which families can possibly match a text, found in one C pass.

Python's `re` pays for every character position of a text, and a post that names no side at all (most posts) still
costs a full scan of the combined side regex. Yet every cue fragment starts with a few characters that any match
must contain: "am[ée]rique" matches only where "amérique" or "amerique" occurs, "sino-\\w+" only after "sino-".
This module reads those necessary literals off each fragment's parsed regex (`re._parser`, the same private parser
bot/framing/cue_cache.py relies on), and puts the literals of all families in one Aho-Corasick automaton
(pyahocorasick, in C). One pass over a post gives the set of families whose literals occur in it; a family that is
absent cannot match, so its regex is not run. The regexes stay the single source of truth: the screen only skips
scans that would find nothing, so every result is the one the regex alone gives.

A literal of a whole-word entry must also sit at a word start (the character before it is not a letter of
`cues.LETTER`), and a literal that is a complete match must end at a word end, exactly as the compiled pattern's
guards demand; the screen checks both, so "software" does not wake up "war".

The walk: a literal appends; a small character class or an optional item (`?`) branches; groups inline; an
alternation unions; zero-width assertions are skipped (dropping a condition keeps the literal necessary); anything
else (any character, `\\w`, a repeat, a large class) ends the literal. A family with a fragment that yields no
literal at all is unscreened: its regex always runs. Without `re._parser` or pyahocorasick everything is
unscreened, silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

try:  # private, but stable since Python 3.7; without it every family is unscreened
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another interpreter
    _parser = None

try:
    import ahocorasick
except ImportError:  # pragma: no cover - the package is a runtime dependency
    ahocorasick = None

MAX_LEN = 12  # longer literals screen no better and make bigger automatons
MAX_VARIANTS = 32  # per fragment: past this, the literals stop where they are (shorter ones are still necessary)
MAX_CLASS = 4  # a character class of at most this many characters branches; a bigger one ends the literal

# One literal of a fragment: (text, complete). Complete means the literal is the whole match (nothing was cut).
Literal = tuple[str, bool]
# What the cache stores per family: None (unscreened) or [[literal, left_guard, right_guard], ...].
Screen = dict[str, list[list[Any]] | None]


def _class(items: Sequence[tuple[Any, Any]]) -> list[str] | None:
    chars: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            chars.append(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < MAX_CLASS:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY, a big range
            return None
    return chars if len(chars) <= MAX_CLASS else None


def _walk(items: Iterable[tuple[Any, Any]], open_: set[str], done: set[str]) -> set[str]:
    """Extend the still-open literals by a sequence of parsed items; literals that must stop go to `done`."""
    for op, av in items:
        if not open_:
            break
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: skipping a condition keeps the literal necessary
        if op is _c.LITERAL:
            nxt = {s + chr(av) for s in open_}
        elif op is _c.IN:
            chars = _class(av)
            if chars is None:
                done |= open_
                return set()
            nxt = {s + ch for s in open_ for ch in chars}
        elif op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if add_flags & (_c.SRE_FLAG_IGNORECASE | _c.SRE_FLAG_VERBOSE):
                done |= open_
                return set()
            nxt = _walk(sub, set(open_), done)
        elif op is _c.BRANCH:
            nxt = set()
            for alt in av[1]:
                nxt |= _walk(alt, set(open_), done)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
            nxt = set(open_) | _walk(av[2], set(open_), done)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] == av[1] == 1:
            nxt = _walk(av[2], set(open_), done)
        else:  # ANY, NOT_LITERAL, CATEGORY, real repeats, group references...
            done |= open_
            return set()
        if len(nxt) + len(done) > MAX_VARIANTS:
            done |= open_  # too many variants: the literals so far are still necessary
            return set()
        long = {s for s in nxt if len(s) >= MAX_LEN}
        done |= {s[:MAX_LEN] for s in long}
        open_ = nxt - long
    return open_


def literals(fragment: str) -> list[Literal] | None:
    """The literals one of which every match of `fragment` starts with, or None when there is none to rely on
    (the fragment can start with anything, or Python's parser is not available)."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(fragment, 0)
    except re.error:  # a fragment Python cannot parse fails (and is reported) where it is compiled
        return None
    if parsed.state.flags & (_c.SRE_FLAG_IGNORECASE | _c.SRE_FLAG_VERBOSE):
        return None
    done: set[str] = set()
    complete = _walk(parsed.data, {""}, done)
    out = {s: False for s in done} | dict.fromkeys(complete, True)
    if not out or "" in out:
        return None
    # a string reached both complete and cut is not a complete match in every case
    return sorted((s, ok and s not in done) for s, ok in out.items())


def build(groups: Mapping[str, Sequence[tuple[str, bool, bool]]]) -> Screen:
    """The screen of each family from its fragments as compiled: (fragment, word start?, word end?) triples, the
    guards its compiled pattern puts around a match. A word-end guard holds only for complete literals."""
    out: Screen = {}
    for name, fragments in groups.items():
        rows: list[list[Any]] = []
        for fragment, left, right in fragments:
            found = literals(fragment)
            if found is None:
                rows = []
                break
            rows += [[text, left, complete and right] for text, complete in found]
        out[name] = rows or None
    return out


class Automaton:
    """Which families' literals occur in a text (at word boundaries where the patterns demand them)."""

    def __init__(self, screen: Screen, names: Sequence[str], letters: frozenset[str]) -> None:
        self.bits = {name: 1 << i for i, name in enumerate(names)}
        self.unscreened = 0
        self.letters = letters
        values: dict[str, list[int]] = {}  # literal -> masks [anywhere, word start, word end, both]
        for name in names:
            rows = screen.get(name)
            if rows is None:
                self.unscreened |= self.bits[name]
                continue
            for text, left, right in rows:
                values.setdefault(text, [0, 0, 0, 0])[left + 2 * right] |= self.bits[name]
        if ahocorasick is None:
            self.unscreened = sum(self.bits.values())
        # An ASCII text can hold only ASCII literals, and an automaton without the CJK, Korean, Arabic... literals
        # runs about three times faster (its root has a few dozen children instead of hundreds). The full one is
        # built on the first text that needs it: most posts are ASCII, and it costs 1-6 ms to build.
        self.ascii = self._automaton({k: v for k, v in values.items() if k.isascii()})
        self._values: dict[str, list[int]] | None = values

    @cached_property
    def full(self) -> Any:
        values, self._values = self._values, None  # cached_property calls this once
        return self._automaton(values or {})

    @staticmethod
    def _automaton(values: dict[str, list[int]]) -> Any:
        if ahocorasick is None or not values:
            return None
        automaton = ahocorasick.Automaton()
        for text, masks in values.items():
            automaton.add_word(text, (len(text), *masks))
        automaton.make_automaton()
        return automaton

    def present(self, low: str, is_ascii: bool) -> int:
        """A bit mask of the families that may match `low` (unscreened families always)."""
        found = self.unscreened
        automaton = self.ascii if is_ascii else self.full
        if automaton is None:
            return found
        letters = self.letters
        n = len(low)
        for end, (length, anywhere, start_only, end_only, both) in automaton.iter(low):
            found |= anywhere
            if start_only | end_only | both:
                start = end - length + 1
                at_start = start == 0 or low[start - 1] not in letters
                at_end = end + 1 == n or low[end + 1] not in letters
                if at_start:
                    found |= start_only
                if at_end:
                    found |= end_only
                if at_start and at_end:
                    found |= both
        return found
