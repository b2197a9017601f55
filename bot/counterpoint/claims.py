"""Recognising a repeated claim, so the bot reuses its earlier counterpoint instead of asking the model again.

A claim key is a hash of the scope (server or subreddit) and the post's normalised words (case, accents,
punctuation, links and mentions do not matter). Near-identical claims are found by Jaccard similarity of word
sets; CJK text counts character bigrams.
"""

from __future__ import annotations

import hashlib
import re

from bot.text.clean import strip_links
from bot.text.normalize import tokenize

MIN_TOKENS_FOR_SIMILARITY = 4  # "China wins" vs "USA wins" must not count as the same claim
_MENTION = re.compile(r"<[@#][!&]?\d+>|@(?:everyone|here)\b|(?<![\w/])/?u/[\w-]{3,20}", re.I)


def claim_tokens(text: str) -> list[str]:
    return tokenize(_MENTION.sub(" ", strip_links(text)), keep_stopwords=True)


def claim_key(text: str, scope: str = "") -> str:
    """The cache key of a claim in one server or subreddit (`scope`): the same words elsewhere are another entry,
    so a reply cached (or dismissed) in one community never answers in another."""
    return hashlib.sha256(f"{scope}\x1f{' '.join(claim_tokens(text))}".encode()).hexdigest()[:32]


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def similarity(a: str, b: str) -> float:
    ta, tb = claim_tokens(a), claim_tokens(b)
    if min(len(ta), len(tb)) < MIN_TOKENS_FOR_SIMILARITY:
        return 1.0 if ta == tb and ta else 0.0
    return jaccard(set(ta), set(tb))
