"""Ranking sources for a post: BM25 (bot/counterpoint/bm25.py) over titles, facts and theme words, plus a theme prior.

Sources are English, posts may not be: each source document also carries the multilingual keywords of its themes,
so a Chinese post about 军备竞赛 still meets the sources on race rhetoric. The prior nudges sources whose theme the
post (or the detector's cues) names, and the pick is varied across themes so one reply can make different points.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.counterpoint.bm25 import BM25Okapi
from bot.models import Source
from bot.text.normalize import tokenize

if TYPE_CHECKING:
    from bot.counterpoint.library_file import Theme

AXIS_THEME = "open_vs_closed"  # the axis every counterpoint comes back to
PRIOR_WEIGHT = 0.8  # weight of the keyword prior next to a BM25 score normalised to 0..1
AXIS_BONUS = 0.15
ORDER_BONUS = 0.15  # a theme lists its sources strongest first
DIVERSITY_PENALTY = 1.0  # per fraction of a candidate's themes already covered by earlier picks
KEYWORDS_FOR_FULL_PRIOR = 3


class Ranker:
    def __init__(self, sources: Sequence[Source], themes: Mapping[str, Theme]) -> None:
        self._sources = list(sources)
        self._themes = {k: t for k, t in themes.items() if t.evidence}
        self._keywords = {
            key: [toks for toks in (tuple(tokenize(k)) for k in theme.keywords) if toks]
            for key, theme in self._themes.items()
        }
        # a theme's title and keywords (in every language) join the document of each of its sources: tokenized once
        # per theme, not once per source (three quarters of building the library, which every `check` pays)
        self._theme_tokens = {key: tokenize(" ".join([t.title, *t.keywords])) for key, t in self._themes.items()}
        docs = [self._document(s) for s in self._sources]
        # BM25Okapi divides by the corpus size: an empty library simply has no index
        self._bm25 = BM25Okapi(docs) if docs else None
        self._order = [self._order_bonus(s) for s in self._sources]

    def _document(self, source: Source) -> list[str]:
        """The tokens of the source's title, publisher and facts, then of its themes' titles and keywords: the same
        list as tokenizing all of them joined by spaces (a token never spans a space)."""
        tokens = tokenize(" ".join([source.title, source.publisher, *source.facts]))
        for key in source.themes:
            tokens += self._theme_tokens.get(key, [])
        return tokens or ["_"]

    def _order_bonus(self, source: Source) -> float:
        best = 0.0
        for key in source.themes:
            theme = self._themes.get(key)
            if theme is not None and source.id in theme.sources:
                best = max(best, 1.0 - theme.sources.index(source.id) / len(theme.sources))
        return ORDER_BONUS * best

    def theme_prior(self, text: str, cues: Sequence[str] = ()) -> dict[str, float]:
        """0..1 per theme: how many of its keywords the post (and the detector's cues) contain."""
        present = set(tokenize(" ".join([text, *cues]), keep_stopwords=True))
        prior = {}
        for key, keywords in self._keywords.items():
            hits = sum(1 for toks in keywords if all(t in present for t in toks))
            prior[key] = min(1.0, hits / KEYWORDS_FOR_FULL_PRIOR)
        return prior

    def scores(self, text: str, cues: Sequence[str] = ()) -> list[float]:
        if self._bm25 is None:
            return []
        query = list(dict.fromkeys(tokenize(" ".join([text, *cues]))))  # a word repeated ten times counts once
        raw = self._bm25.get_scores(query) if query else [0.0] * len(self._sources)
        top = max(raw) if len(raw) else 0.0
        prior = self.theme_prior(text, cues)
        out = []
        for i, source in enumerate(self._sources):
            bm25 = float(raw[i]) / top if top > 0 else 0.0
            boost = max((prior.get(t, 0.0) for t in source.themes), default=0.0)
            axis = AXIS_BONUS if AXIS_THEME in source.themes else 0.0
            out.append(bm25 + PRIOR_WEIGHT * boost + axis + self._order[i])
        return out

    def top(self, text: str, k: int, *, cues: Sequence[str] = ()) -> list[Source]:
        scores = self.scores(text, cues)
        remaining = list(range(len(scores)))
        covered: set[str] = set()
        picked: list[Source] = []
        while remaining and len(picked) < max(k, 0):
            best = max(remaining, key=lambda i: (scores[i] - DIVERSITY_PENALTY * self._overlap(i, covered), -i))
            remaining.remove(best)
            picked.append(self._sources[best])
            covered.update(self._sources[best].themes)
        return self._with_axis(picked, scores)

    def _with_axis(self, picked: list[Source], scores: list[float]) -> list[Source]:
        """With room for two or more, keep one open-vs-closed source so the reply can make the main point."""
        if len(picked) < 2 or any(AXIS_THEME in s.themes for s in picked):
            return picked
        axis = [i for i, s in enumerate(self._sources) if AXIS_THEME in s.themes]
        if not axis:
            return picked
        best = max(axis, key=lambda i: (scores[i], -i))
        return [*picked[:-1], self._sources[best]]

    def _overlap(self, index: int, covered: set[str]) -> float:
        themes = [t for t in self._sources[index].themes if t in self._themes]
        if not themes:
            return 1.0
        return sum(1 for t in themes if t in covered) / len(themes)

    def rank_themes(
        self,
        text: str,
        *,
        cues: Sequence[str] = (),
        retrieved: Sequence[Source] = (),
        used_less: Collection[str] = (),
    ) -> list[str]:
        """Themes for the offline reply, best first: the post's keywords plus the themes of the retrieved sources;
        themes a server's votes found unhelpful come after every other matching theme (bot/counterpoint/feedback.py).
        """
        prior = self.theme_prior(text, cues)
        score = {key: prior.get(key, 0.0) for key in self._themes}
        for rank, source in enumerate(retrieved):
            keys = [key for key in source.themes if key in score]
            for key in keys:
                score[key] += 1.0 / (rank + 1) / len(keys)  # a source on three themes speaks a third for each
        order = list(self._themes)
        ranked = sorted(score, key=lambda key: (key in used_less, -score[key], order.index(key)))
        ranked = [key for key in ranked if score[key] > 0] or ranked[:1]
        # the claim chooses the first paragraph; the main point (open vs closed) comes second at worst
        if AXIS_THEME in self._themes and AXIS_THEME not in ranked[:2]:
            ranked = [key for key in ranked if key != AXIS_THEME]
            ranked.insert(min(1, len(ranked)), AXIS_THEME)
        return ranked
