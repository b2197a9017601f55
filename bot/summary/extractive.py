"""Offline summary without a model: the most central messages (TF-IDF + LexRank-style centrality, NumPy),
questions nobody answered, and posts the lexical framing detector flags. Marked engine="extractive"."""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from bot.models import Post, Summary, SummaryPoint
from bot.summary.tfidf import Matrix, tfidf
from bot.text.clean import quote
from bot.text.limits import clip

log = logging.getLogger(__name__)

DAMPING = 0.85
REDUNDANT = 0.6  # cosine above which a candidate repeats an already chosen message
QUESTION = re.compile(r"[?？]")
QUOTE_CHARS = 280


def extractive_summary(posts: Sequence[Post], *, thread_id: str, note: str = "", max_points: int = 6) -> Summary:
    posts = [p for p in posts if p.text.strip()]
    if not posts:
        return Summary(thread_id, (), engine="extractive", note=note)
    max_points = min(max_points, max(3, math.ceil(len(posts) / 4)))  # a summary, not a copy of a short thread
    texts = [quote(p.text) for p in posts]
    children: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        if p.parent_id:
            children[p.parent_id].append(p)
    matrix, scores = _centrality(texts)
    # a message many people answer is usually one the thread turns on
    scores = scores * np.array([1.0 + 0.25 * np.log1p(len(children[p.post_id])) for p in posts])
    unanswered = [i for i, p in enumerate(posts) if QUESTION.search(p.text) and not children[p.post_id]]
    questions = sorted(sorted(unanswered, key=lambda i: -scores[i])[:3])
    # an open question is listed once, under open questions
    chosen = _pick(matrix, np.where(np.isin(np.arange(len(posts)), questions), -1.0, scores), max_points)
    return Summary(
        thread_id=thread_id,
        points=tuple(_quote(posts[i], texts[i]) for i in chosen),
        open_questions=tuple(_quote(posts[i], texts[i]) for i in questions),
        framing=_framing(posts, texts, children),
        engine="extractive",
        covered_until=posts[-1].post_id,
        message_count=len(posts),
        note=note,
    )


def _quote(post: Post, text: str) -> SummaryPoint:
    return SummaryPoint(f"{quote(post.author_name)}: {clip(text, QUOTE_CHARS)}", (post.post_id,))


def _centrality(texts: list[str]) -> tuple[Matrix | None, np.ndarray]:
    """Continuous LexRank computed as X(Xᵀv): memory stays O(non-zeros) even for thousands of messages."""
    n = len(texts)
    try:
        # character n-grams work for every script, CJK included, with no tokenizer data to download
        x = tfidf(texts, max_features=60_000)
    except ValueError:  # nothing but empty or one-character messages
        return None, np.array([len(t) for t in texts], dtype=float)
    ones = np.ones(n)
    degree = np.maximum(x.dot(x.tdot(ones)) - 1.0, 1e-9)  # similarity to every other message
    p = ones / n
    for _ in range(100):
        q = p / degree
        nxt = (1 - DAMPING) / n + DAMPING * np.maximum(x.dot(x.tdot(q)) - q, 0.0)
        nxt /= nxt.sum()
        if np.abs(nxt - p).sum() < 1e-8:
            break
        p = nxt
    return x, p


def _pick(matrix: Matrix | None, scores: np.ndarray, k: int) -> list[int]:
    """Best-scored messages that do not repeat each other, in thread order."""
    chosen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) >= k or scores[i] < 0:
            break
        if matrix is not None and chosen and matrix.cosines(int(i), chosen).max() > REDUNDANT:
            continue
        chosen.append(int(i))
    return sorted(chosen)


def _framing(posts: list[Post], texts: list[str], children: dict[str, list[Post]]) -> tuple[SummaryPoint, ...]:
    found: list[SummaryPoint] = []
    for post, text in zip(posts, texts, strict=True):
        if len(found) >= 4 or not _frames(post.text):
            continue
        answers = children[post.post_id]
        how = f"answered by {', '.join(sorted({quote(a.author_name) for a in answers}))}" if answers else "no reply yet"
        ids = (post.post_id, *(a.post_id for a in answers[:3]))
        found.append(
            SummaryPoint(
                f"{quote(post.author_name)} framed AI as a US-vs-China contest ({how}): {clip(text, 200)}", ids
            )
        )
    return tuple(found)


def _frames(text: str) -> bool:
    """The offline framing detector: an extractive summary lists the posts it flags. Imported here, not at the top:
    the cue tables cost start-up time that commands without an offline summary should not pay."""
    from bot.framing.lexical import lexical_verdict, prefilter

    return bool(prefilter(text).passed and lexical_verdict(text).frames)
