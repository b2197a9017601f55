"""The citation library: load and validate config/sources.toml, merge moderator additions, retrieve sources.

The library is the bot's whole world of citable links: a counterpoint may only cite what is in here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.counterpoint.library_file import (
    Paragraph,
    SourceEntry,
    Theme,
    explain,
    is_http_url,
    parse_openers,
    parse_paragraph,
    parse_source,
    parse_theme,
)
from bot.counterpoint.retrieval import Ranker
from bot.errors import ConfigError
from bot.models import Source
from bot.serialize import source_to_dict
from bot.settings import read_toml

log = logging.getLogger(__name__)

TEMPLATE_SOURCES = 2  # the English offline paragraph of a theme cites the first two sources it lists
PARAGRAPHS_FILE = "paragraphs.toml"  # next to the library file: the vetted paragraphs in other languages


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
        """Read and validate a library file, and the paragraphs.toml next to it when there is one (the vetted
        paragraphs in other languages); ConfigError names the file, the entry and the field."""
        p = Path(path)
        data = read_toml(p, "Source library", cached=True)
        extra = p.with_name(PARAGRAPHS_FILE)
        paragraphs = read_toml(extra, "Paragraphs file", cached=True) if extra.is_file() else None
        return cls.from_dict(data, origin=str(p), paragraphs=paragraphs, paragraphs_origin=str(extra))

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        origin: str = "library",
        paragraphs: Mapping[str, Any] | None = None,
        paragraphs_origin: str = PARAGRAPHS_FILE,
    ) -> Library:
        raw_themes = data.get("themes", {})
        if not isinstance(raw_themes, Mapping) or not raw_themes:
            raise ConfigError(f"Source library {origin} has no [themes.<key>] tables.")
        entries = {key: parse_theme(key, value, origin) for key, value in raw_themes.items()}
        raw_sources = data.get("sources", [])
        if not isinstance(raw_sources, list) or not raw_sources:
            raise ConfigError(f"Source library {origin} has no [[sources]] entries.")
        sources: list[Source] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_sources, start=1):
            entry = parse_source(raw, index, origin)
            where = f"Source library {origin}: source #{index} ({entry.id})"
            if entry.id in seen:
                raise ConfigError(f"{where}: field 'id' is a duplicate.")
            for theme in entry.themes:
                if theme not in entries:
                    raise ConfigError(
                        f"{where}: field 'themes' has unknown theme {theme!r} (known: {', '.join(entries)})."
                    )
            seen.add(entry.id)
            sources.append(entry.to_source())
        for key, theme_entry in entries.items():
            for sid in theme_entry.sources:
                if sid not in seen:
                    raise ConfigError(
                        f"Source library {origin}: theme '{key}': field 'sources' names unknown source '{sid}'."
                    )
        by_id = {s.id: s for s in sources}
        translations = _paragraphs(paragraphs, paragraphs_origin, by_id, set(entries))
        themes = {
            key: Theme(
                key,
                e.title,
                e.paragraph,
                tuple(e.sources),
                tuple(e.keywords),
                e.evidence,
                translations.get(key, {}),
            )
            for key, e in entries.items()
        }
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
        """The sources the theme's English paragraph cites (its first n that exist)."""
        theme = self.themes.get(key)
        if theme is None:
            return []
        found = [self._by_id[sid] for sid in theme.sources if sid in self._by_id]
        return found[:n]

    def paragraph(self, key: str, lang: str | None) -> tuple[str, list[Source]]:
        """The vetted paragraph of a theme in `lang` (English when there is none) and the sources it cites."""
        theme = self.themes[key]
        chosen = theme.paragraph_for(lang, TEMPLATE_SOURCES)
        if chosen.sources == theme.sources[:TEMPLATE_SOURCES]:
            return chosen.text, self.theme_sources(key)
        return chosen.text, [self._by_id[sid] for sid in chosen.sources if sid in self._by_id]

    # --- retrieval ----------------------------------------------------------------------------------------------
    def retrieve(self, text: str, k: int = 3, *, cues: Sequence[str] = ()) -> list[Source]:
        """The k best citable sources for a post, varied across themes; never empty while the library has any."""
        return self._ranker.top(text, k, cues=cues)

    def rank_themes(
        self,
        text: str,
        *,
        cues: Sequence[str] = (),
        retrieved: Sequence[Source] = (),
        used_less: Collection[str] = (),
    ) -> list[str]:
        """Citable themes, best match first: keyword prior plus the themes of the retrieved sources; themes in
        `used_less` (votes on this server) after the others; open vs closed is first or second."""
        return self._ranker.rank_themes(text, cues=cues, retrieved=retrieved, used_less=used_less)

    # --- moderator additions ------------------------------------------------------------------------------------
    def validate_source(self, source: Source) -> None:
        """Raise ConfigError if `source` could not join this library: the file's own model checks its fields, its
        themes must be citable ones here, and its id must be new."""
        where = f"moderator source ({source.id or 'no id'})"
        values = source_to_dict(source)
        for name in ("added_by", "guild_id"):
            values.pop(name, None)
        try:
            SourceEntry.model_validate(values)
        except ValidationError as exc:
            raise explain(exc, where, values) from None
        unknown = [t for t in source.themes if t not in self.themes or not self.themes[t].evidence]
        if unknown:
            known = ", ".join(k for k, t in self.themes.items() if t.evidence)
            raise ConfigError(f"{where}: field 'themes' has unknown theme {unknown[0]!r} (known: {known}).")
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


__all__ = ["PARAGRAPHS_FILE", "TEMPLATE_SOURCES", "Library", "Paragraph", "Theme", "is_http_url"]


def _vocabulary(sources: Iterable[Source], themes: Iterable[Theme]) -> frozenset[str]:
    """Every word the library itself uses: names a model may repeat in its opening sentence (bot/counterpoint/
    opening.py), because the library already vouches for them."""
    texts = [t for s in sources for t in (s.title, s.publisher, s.via, *s.facts)]
    texts += [t for theme in themes for t in (theme.title, theme.paragraph, *theme.keywords)]
    return frozenset(w.strip(".,;:()\"'’") for text in texts for w in text.split())


def _paragraphs(
    data: Mapping[str, Any] | None, origin: str, sources: Mapping[str, Source], themes: set[str]
) -> dict[str, dict[str, Paragraph]]:
    """theme -> language -> Paragraph, from paragraphs.toml's [[paragraphs]] tables."""
    if data is None:
        return {}
    raw = data.get("paragraphs", [])
    if not isinstance(raw, list):
        raise ConfigError(f"Paragraphs {origin}: [[paragraphs]] must be a list of tables.")
    out: dict[str, dict[str, Paragraph]] = {}
    for index, item in enumerate(raw, start=1):
        entry = parse_paragraph(item, index, origin)
        where = f"Paragraphs {origin}: paragraph #{index} ({entry.theme}, {entry.lang})"
        if entry.theme not in themes:
            raise ConfigError(f"{where}: field 'theme' names unknown theme {entry.theme!r}.")
        if entry.lang in out.get(entry.theme, {}):
            raise ConfigError(f"{where}: field 'lang' is a duplicate for this theme.")
        for sid in entry.sources:
            if sid not in sources:
                raise ConfigError(f"{where}: field 'sources' names unknown source '{sid}'.")
            if entry.theme not in sources[sid].themes:
                raise ConfigError(f"{where}: field 'sources' names '{sid}', which is not on theme '{entry.theme}'.")
        out.setdefault(entry.theme, {})[entry.lang] = Paragraph(entry.text, tuple(entry.sources), entry.lang)
    return out
