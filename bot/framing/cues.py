"""Multilingual cue tables for the framing detector, compiled once per process into fast trie-shaped regexes.

Patterns run on text that `normalize()` has cleaned (NFKC, invisible/bidi characters removed, look-alike letters,
dashes and apostrophes unified, whitespace collapsed) and then lower-cased (length-preserving, so spans line up);
only `ACRONYMS` sees the original case ("US" is a country, "us" a pronoun). Latin-script entries are regex
fragments matched as whole words; CJK entries
are literal compounds (those scripts have no word boundaries). Each family compiles to ONE regex whose literal
prefixes are merged into a trie: Python's `re` tries alternatives one by one, so a flat list of 200 words would cost
200 comparisons per character; the trie costs a handful. An ASCII-only variant skips the CJK branch for the common
case. Languages: en, zh (simplified and traditional), ja, es, fr, de, pt, nl, and (bot/framing/cue_tables_world.py)
ar, ru, ko, hi, vi. Table entries go through the same normalisation as the text, so a Russian entry meets Russian
text in the same half-Latin form that the look-alike mapping gives it.

Even a trie costs `re` a step at every character of every post, and most posts match nothing. So each `Scan` asks a
literal screen first (`Scan.may`, bot/framing/cue_screen.py): one Aho-Corasick pass over `low` tells which families'
necessary literals occur at all, and a family whose literals are absent is not scanned. The regexes still decide
every match; the screen only skips scans that would find nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from bot.framing import cue_cache, cue_screen
from bot.framing.cue_tables import TABLES
from bot.text.limits import READ_CHARS

# --- normalisation -----------------------------------------------------------------------------------------------
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b"
    "\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufe00\ufe01\ufe02\ufe03\ufe0e\ufe0f\ufeff\uffa0"
    "\u0640"  # Arabic tatweel: stretches a word for layout ("سبـاق"), never changes it
)
# Cyrillic/Greek letters that look Latin: "Сhina" spelled with a Cyrillic С must still match. Every Cyrillic
# capital mapped here has its small letter mapped to the same letter's small form, so that lower-casing after the
# mapping gives one spelling per Russian word whatever its case ("Китай" and "китай" -> "kитaй").
_CONFUSABLE = "аеорсухіјѕԁһӏвкмнтАВЕКМНОРСТХІЈЅУοαερκντιΑΒΕΗΙΚΜΝΟΡΤΧΥΖ"
_LATIN_TWIN = "aeopcyxijsdhlbkmhtABEKMHOPCTXIJSYoaepkvtiABEHIKMNOPTXYZ"
_TABLE: dict[int, int | None] = {ord(c): None for c in _INVISIBLE}
_TABLE.update({ord(a): ord(b) for a, b in zip(_CONFUSABLE, _LATIN_TWIN, strict=True)})
_TABLE.update({ord(c): ord("-") for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_TABLE.update({ord(c): ord("'") for c in "\u2018\u2019\u201b\u02bc\u00b4"})


def normalize(text: str, *, keep_lines: bool = False) -> str:
    """NFKC (fullwidth -> ASCII), drop zero-width/bidi characters, unify look-alikes, collapse whitespace.

    With keep_lines, line breaks survive (one per line) so that headlines and bullets stay separate sentences."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TABLE)
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return " ".join(text.split())


# --- trie compilation --------------------------------------------------------------------------------------------
# What counts as "inside a word" for word-bounded cues (text is lower-cased): Latin with Vietnamese letters,
# Cyrillic and Devanagari (whose vowel signs sit inside words: "चीन" must not match inside "प्राचीन").
_LETTER_RANGES = (
    ("a", "z"),
    ("0", "9"),
    ("\u00c0", "\u024f"),
    ("\u1e00", "\u1eff"),
    ("\u0400", "\u04ff"),
    ("\u0900", "\u097f"),
)
LETTER = "".join(f"{first}-{last}" for first, last in _LETTER_RANGES)
_META = set(".^$*+?{}[]\\|()")


def _split(fragment: str) -> tuple[str, str]:
    """Longest literal prefix of a regex fragment, and the rest (kept as regex)."""
    prefix: list[str] = []
    i = 0
    while i < len(fragment):
        ch = fragment[i]
        if ch == "\\" and i + 1 < len(fragment) and not fragment[i + 1].isalnum():
            lit, width = fragment[i + 1], 2
        elif ch in _META:
            break
        else:
            lit, width = ch, 1
        if fragment[i + width : i + width + 1] in ("?", "*", "+", "{"):
            break
        prefix.append(lit)
        i += width
    return "".join(prefix), fragment[i:]


# Alternatives are tried in order: putting the most frequent letters first makes the common case cheap.
_FREQUENT = {ch: i for i, ch in enumerate(" etaoinsrhldcumfpgwybvkxjqz")}


def _emit(node: dict[str, dict], latin_root: bool = False) -> str:
    alts = []
    for ch in sorted((k for k in node if k), key=lambda c: (_FREQUENT.get(c, 99), c)):
        guard = f"(?<![{LETTER}].)" if latin_root else ""  # left word boundary, checked after the 1st char
        alts.append(re.escape(ch) + guard + _emit(node[ch]))
    tails = sorted(node.get("", {}), key=lambda t: (t == "", t))  # the empty tail last: prefer longer matches
    alts += [f"(?<![{LETTER}]){t}" if latin_root else t for t in tails]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def trie_pattern(fragments: list[str], *, latin: bool) -> str:
    root: dict[str, dict] = {}
    for fragment in fragments:
        prefix, tail = _split(fragment)
        node = root
        for ch in prefix:
            node = node.setdefault(ch, {})
        node.setdefault("", {})[tail] = {}
    body = _emit(root, latin_root=latin)
    return f"{body}(?![{LETTER}])" if latin else body


class Family:
    """One cue family: a regex for ASCII text (Latin entries only) and one for everything else, made on first use
    (most posts are ASCII and never need it)."""

    def __init__(self, name: str, ascii_re: re.Pattern[str], make_full: Callable[[], re.Pattern[str]]) -> None:
        self.name = name
        self.ascii_re = ascii_re
        self._make_full: Callable[[], re.Pattern[str]] | None = make_full

    @cached_property
    def full_re(self) -> re.Pattern[str]:
        assert self._make_full is not None  # cached_property calls this once
        made, self._make_full = self._make_full(), None  # the stored program (up to 120 kB of text) can go
        return made

    def pick(self, is_ascii: bool) -> re.Pattern[str]:
        return self.ascii_re if is_ascii else self.full_re


def _fold(entry: str) -> str:
    """A table entry in the form the text takes after normalize() and lower()."""
    return normalize(entry).lower() if not entry.isascii() else entry


_OTHER_SCRIPT = re.compile("[\u0400-\u04ff\u0900-\u097f\u1e00-\u1eff]")


def _bounded(fragments: list[str]) -> list[str]:
    """Word entries: `~` marks a compound ending (no left boundary); the others are bounded on both sides."""
    # \w in a word entry means a letter of a bounded script: "deepseek\w*" must not swallow the Japanese after it
    words = [f.replace(r"\w", f"[{LETTER}]") for f in fragments if not f.startswith("~")]
    infixes = [f[1:].replace(r"\w", f"[{LETTER}]") for f in fragments if f.startswith("~")]
    parts = [f"(?:{trie_pattern(words, latin=True)})"] if words else []
    if infixes:
        parts.append(f"(?:{trie_pattern(infixes, latin=False)})(?![{LETTER}])")
    return parts


def _sources(latin: list[str], cjk: list[str]) -> tuple[str, str]:
    latin = [_fold(f) for f in latin]
    ascii_parts = _bounded([f for f in latin if not _OTHER_SCRIPT.search(f)])  # cannot match ASCII text anyway
    parts = _bounded(latin)
    if cjk:
        parts.append(trie_pattern([re.escape(_fold(w)) for w in cjk], latin=False))
    return "|".join(ascii_parts) or "(?!)", "|".join(parts) or "(?!)"


# The prefilter's first (and, for most posts, only) scan: every side cue and every explicit phrase in one trie.
GATE_FAMILIES = ("us_noun", "us_adj", "cn_noun", "cn_adj", "pair", "cn_lab", "bloc", "phrase", "metaphor", "two_powers")
CONTEST_FAMILIES = ("contest", "scoreboard", "contest_weak")


def _all_sources() -> dict[str, tuple[str, str]]:
    out = {name: _sources(latin, cjk) for name, (latin, cjk) in TABLES.items()}
    for name, members in (("gate", GATE_FAMILIES), ("contest_all", CONTEST_FAMILIES)):
        out[name] = _sources([f for m in members for f in TABLES[m][0]], [w for m in members for w in TABLES[m][1]])
    return out


def _screen_sources() -> cue_screen.Screen:
    """Each family's fragments as its compiled pattern has them, with the word guards the pattern puts around them:
    word entries need a word start and end, `~` entries a word end, CJK literals neither."""
    members = {name: [name] for name in TABLES} | {"gate": list(GATE_FAMILIES), "contest_all": list(CONTEST_FAMILIES)}
    groups: dict[str, list[tuple[str, bool, bool]]] = {}
    for name, parts in members.items():
        rows = groups.setdefault(name, [])
        for member in parts:
            latin, cjk = TABLES[member]
            for fragment in (_fold(f) for f in latin):
                infix = fragment.startswith("~")
                rows.append(((fragment[1:] if infix else fragment).replace(r"\w", f"[{LETTER}]"), not infix, True))
            rows += [(re.escape(_fold(w)), False, False) for w in cjk]
    return cue_screen.build(groups)


@cache
def _compiled() -> tuple[dict[str, Family], cue_screen.Screen]:
    from bot.settings import user_cache_dir

    key = cue_cache.key_of(
        TABLES, GATE_FAMILIES, CONTEST_FAMILIES, Path(__file__).read_bytes(), Path(cue_screen.__file__).read_bytes()
    )
    compiled, screen = cue_cache.load(key, user_cache_dir(), _all_sources, _screen_sources)
    return {name: Family(name, ascii_re, make_full) for name, (ascii_re, make_full) in compiled.items()}, screen


def families() -> dict[str, Family]:
    """Compiled once per process, on first use; the compiled programs are cached on disk across processes
    (bot/framing/cue_cache.py), keyed by the tables and by the modules that turn them into patterns and screens."""
    return _compiled()[0]


# The families the prefilter's screen answers for (bot/framing/cue_screen.py). The evidence's other families have
# an automaton of their own, built on first use: adding their short literals ("ai", "us", "we") to this one would
# slow down the prefilter's one pass over every post.
SCREENED = ("gate", "contest_all", "contest", "scoreboard", "us_noun", "cn_noun")
_SCREEN_ON = True  # tests compare results with the screen and without it; not a setting


@cache
def screen(everything: bool = False) -> cue_screen.Automaton:
    """The Aho-Corasick automaton over the literals of the prefilter's families (or of every family), built once
    per process."""
    letters = frozenset(chr(c) for first, last in _LETTER_RANGES for c in range(ord(first), ord(last) + 1))
    return cue_screen.Automaton(_compiled()[1], tuple(TABLES) if everything else SCREENED, letters)


# Case-sensitive acronyms, matched on the un-folded text. Each branch starts with its capital letter and checks
# the boundary after it, so the regex engine can skip straight to capitals.
_B = r"(?<![A-Za-z.].)"
ACRONYMS = re.compile(
    rf"(?:U{_B}(?:SA?|\.S\.(?:A\.)?|E)|E{_B}(?:E\.\s?UU\.?|UA?)|V{_B}S|P{_B}(?:RC|CCh)|C{_B}(?:CP|PC)|K{_B}PCh)"
    r"(?![A-Za-z])"
)
ACRONYM_SIDE = {
    "US": "us",
    "USA": "us",
    "U.S.": "us",
    "U.S.A.": "us",
    "EE.UU.": "us",
    "EE.UU": "us",
    "EUA": "us",
    "VS": "us",
    "PRC": "cn",
    "CCP": "cn",
    "CPC": "cn",
    "PCCh": "cn",
    "KPCh": "cn",
    "EU": "bloc",
    "UE": "bloc",
}
# Sentence ends in any script; a newline ends a sentence too (headlines, bullet lists).
SENTENCE_END = re.compile(r"(?<=[.!?;。！？；…])\s+|(?<=[。！？；])|\n+")


PREFILTER_CHARS = READ_CHARS  # longer posts are judged on their start; keeps the worst case bounded


@dataclass
class Scan:
    """A post normalised once: `low` is what the cue regexes read; spans line up with `nf`."""

    nf: str
    low: str
    is_ascii: bool
    acronyms: list[tuple[str, int, int]] = field(default_factory=list)  # (side, start, end)
    _present: dict[bool, int] = field(default_factory=dict, repr=False, compare=False)  # each screen's answer

    @classmethod
    def of(cls, text: str, *, keep_lines: bool = False) -> Scan:
        nf = normalize(text[:PREFILTER_CHARS], keep_lines=keep_lines)
        acr = [(ACRONYM_SIDE.get(m.group().replace(" ", ""), "us"), m.start(), m.end()) for m in ACRONYMS.finditer(nf)]
        return cls(nf, nf.lower(), nf.isascii(), acr)

    def may(self, family: str) -> bool:
        """False only when the family's regex cannot match `low` (its literals are absent): then skip the scan.
        The prefilter's screen answers first; the one over every family is built and asked only when needed."""
        if not _SCREEN_ON:
            return True
        for everything in (False, True):
            automaton = screen(everything)
            bit = automaton.bits.get(family)
            if bit is not None:
                if everything not in self._present:
                    self._present[everything] = automaton.present(self.low, self.is_ascii)
                return bool(self._present[everything] & bit)
        return True

    def finditer(self, family: str) -> Iterator[re.Match[str]]:
        """The family's matches in `low`; none without a scan when the screen rules the family out."""
        return families()[family].pick(self.is_ascii).finditer(self.low) if self.may(family) else iter(())

    def search(self, family: str) -> re.Match[str] | None:
        """The family's first match in `low`, or None (without a scan when the screen rules the family out)."""
        return families()[family].pick(self.is_ascii).search(self.low) if self.may(family) else None
