"""Lengths: words (CJK-aware), characters, tokens, and the cuts that keep text within a platform's limits."""

from __future__ import annotations

import unicodedata

from bot.text import programs
from bot.text.normalize import CJK_CLASS

# The start of a post the bot reads: a longer one (a pasted essay, `check -` of a whole file) is judged and answered
# on its first 20,000 characters, which keeps every step's worst case bounded (Reddit's own cap is 40,000).
READ_CHARS = 20_000
MAX_CHARS = 1500  # well under Discord's 2,000-character message, 4,096 embed description and Reddit's 10,000
DISCORD_LIMIT = 2000

_UNIT = programs.compile(f"[{CJK_CLASS}]|[^\\s{CJK_CLASS}]+")
_CJK_CHAR = programs.compile(f"[{CJK_CLASS}]")
_MARKER_TOKEN = programs.compile(r"^(?:\[\d{1,2}\])+[.,;:!?。，；：！？]*$")
_SENTENCE_END = programs.compile(r"[.!?。！？](?:\[\d{1,2}\])*(?=\s|$)")


def estimate_tokens(text: str) -> int:
    """Conservative offline estimate: a token per wide (CJK, kana, Hangul, fullwidth) character, one per 3 others."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return wide + (len(text) - wide + 2) // 3


def _weight(unit: str) -> float:
    if len(unit) == 1 and _CJK_CHAR.match(unit):
        return 0.5  # about two CJK characters per English word
    if _MARKER_TOKEN.match(unit) or not any(ch.isalnum() for ch in unit):
        return 0.0
    return 1.0


def count_words(text: str) -> float:
    return sum(_weight(m.group()) for m in _UNIT.finditer(text))


def cap_text(text: str, max_words: int, max_chars: int = MAX_CHARS) -> str:
    """Cut at a word boundary within both limits, preferring the end of a sentence; "…" marks a mid-sentence cut."""
    total, end = 0.0, 0
    for match in _UNIT.finditer(text):
        total += _weight(match.group())
        if total > max_words or match.end() > max_chars - 1:
            break
        end = match.end()
    else:
        return text
    cut = text[:end]
    sentences = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if sentences and sentences[-1] >= len(cut) // 2:
        return cut[: sentences[-1]].rstrip()
    return cut.rstrip(" ,;:-–—，；：、") + "…"


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, at a word boundary when one is near, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters: whole lines where possible, else whole words, never an empty piece."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in _wrap(line, limit):
            candidate = f"{current}\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current.strip():
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def _wrap(line: str, limit: int) -> list[str]:
    """A line longer than the limit, cut at spaces; a single word longer than the limit is cut hard."""
    out: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        out.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    out.append(line)
    return out
