"""The citation library: load and validate config/sources.toml, merge moderator additions, retrieve sources.

The library is the bot's whole world of citable links: a counterpoint may only cite what is in here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.counterpoint.library_file import (
    Theme,
    check_source_values,
    is_http_url,
    parse_openers,
    parse_source,
    parse_theme,
)
from bot.counterpoint.retrieval import Ranker
from bot.errors import ConfigError
from bot.models import Source
from bot.settings import read_toml

log = logging.getLogger(__name__)

TEMPLATE_SOURCES = 2  # the offline paragraph of a theme cites the first two sources it lists


class Library:
    """Immutable set of sources and themes with a BM25 index over them."""

    def __init__(
        self,
        sources: Iterable[Source],
        themes: Mapping[str, Theme],
        *,
        origin: str = "library",
        openers: Mapping[str, str] | None = None,
    ) -> None:
        self.sources: tuple[Source, ...] = tuple(sources)
        self.themes: dict[str, Theme] = dict(themes)
        self.origin = origin
        self.openers: dict[str, str] = dict(openers or {})
        self._by_id = {s.id: s for s in self.sources}
        self.urls: frozenset[str] = frozenset(s.url for s in self.sources)
        citable = [s for s in self.sources if self._citable(s)]
        self._ranker = Ranker(citable, self.themes)
        self.vocabulary: frozenset[str] = _vocabulary(self.sources, self.themes.values())

    @classmethod
    def load(cls, path: str | Path) -> Library:
        """Read and validate a library file; ConfigError names the file, the entry and the field."""
        p = Path(path)
        data = read_toml(p, "Source library")
        return cls.from_dict(data, origin=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "library") -> Library:
        raw_themes = data.get("themes", {})
        if not isinstance(raw_themes, Mapping) or not raw_themes:
            raise ConfigError(f"Source library {origin} has no [themes.<key>] tables.")
        themes = {key: parse_theme(key, value, origin) for key, value in raw_themes.items()}
        raw_sources = data.get("sources", [])
        if not isinstance(raw_sources, list) or not raw_sources:
            raise ConfigError(f"Source library {origin} has no [[sources]] entries.")
        sources: list[Source] = []
        seen: set[str] = set()
        for index, entry in enumerate(raw_sources, start=1):
            source = parse_source(entry, index, origin, themes)
            if source.id in seen:
                raise ConfigError(f"Source library {origin}: source #{index} ({source.id}): field 'id' is a duplicate.")
            seen.add(source.id)
            sources.append(source)
        for theme in themes.values():
            for sid in theme.sources:
                if sid not in seen:
                    raise ConfigError(
                        f"Source library {origin}: theme '{theme.key}': field 'sources' names unknown source '{sid}'."
                    )
        return cls(sources, themes, origin=origin, openers=parse_openers(data.get("template"), origin))

    # --- lookup -------------------------------------------------------------------------------------------------
    def get(self, source_id: str) -> Source | None:
        return self._by_id.get(source_id)

    def __contains__(self, source_id: object) -> bool:
        return source_id in self._by_id

    def __iter__(self) -> Iterator[Source]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)

    def _citable(self, source: Source) -> bool:
        return all(self.themes[t].evidence for t in source.themes if t in self.themes)

    def opener_for(self, lang: str | None) -> str:
        """The sentence the offline reply starts with, in the post's language when the file has it."""
        return self.openers.get(lang or "", self.openers.get("", ""))

    def theme_sources(self, key: str, n: int = TEMPLATE_SOURCES) -> list[Source]:
        """The sources a theme's pre-written paragraph cites (its first n that exist)."""
        theme = self.themes.get(key)
        if theme is None:
            return []
        found = [self._by_id[sid] for sid in theme.sources if sid in self._by_id]
        return found[:n]

    # --- retrieval ----------------------------------------------------------------------------------------------
    def retrieve(self, text: str, k: int = 3, *, cues: Sequence[str] = ()) -> list[Source]:
        """The k best citable sources for a post, varied across themes; never empty while the library has any."""
        return self._ranker.top(text, k, cues=cues)

    def rank_themes(self, text: str, *, cues: Sequence[str] = (), retrieved: Sequence[Source] = ()) -> list[str]:
        """Citable themes, best match first: keyword prior plus the themes of the retrieved sources."""
        return self._ranker.rank_themes(text, cues=cues, retrieved=retrieved)

    # --- moderator additions ------------------------------------------------------------------------------------
    def validate_source(self, source: Source) -> None:
        """Raise ConfigError if `source` could not join this library (for the command that adds one)."""
        where = f"moderator source ({source.id or 'no id'})"
        check_source_values(
            {
                "id": source.id,
                "title": source.title,
                "publisher": source.publisher,
                "date": source.date,
                "url": source.url,
                "themes": list(source.themes),
                "facts": list(source.facts),
                "via": source.via,
            },
            where,
            self.themes,
        )
        if source.id in self._by_id:
            raise ConfigError(f"{where}: field 'id' is already used by the library.")

    def with_extra(self, extra: Iterable[Source]) -> Library:
        """A new library that also holds moderator-added sources; invalid or duplicate ones are skipped (logged)."""
        merged = list(self.sources)
        taken = set(self._by_id)
        for source in extra:
            try:
                self.validate_source(source)
                if source.id in taken:
                    raise ConfigError(f"moderator source ({source.id}): field 'id' is a duplicate.")
            except ConfigError as exc:
                log.warning("skipping moderator source: %s", exc)
                continue
            taken.add(source.id)
            merged.append(source)
        return Library(merged, self.themes, origin=self.origin, openers=self.openers)


__all__ = ["TEMPLATE_SOURCES", "Library", "Theme", "is_http_url"]


def _vocabulary(sources: Iterable[Source], themes: Iterable[Theme]) -> frozenset[str]:
    """Every word the library itself uses: names a model may repeat in its opening sentence (bot/counterpoint/
    opening.py), because the library already vouches for them."""
    texts = [t for s in sources for t in (s.title, s.publisher, s.via, *s.facts)]
    texts += [t for theme in themes for t in (theme.title, theme.paragraph, *theme.keywords)]
    return frozenset(w.strip(".,;:()\"'’") for text in texts for w in text.split())
