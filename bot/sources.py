"""The citation library: load and validate config/sources.toml, merge moderator additions, retrieve sources.

The library is the bot's whole world of citable links: a counterpoint may only cite what is in here.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.models import Source
from bot.retrieval import Ranker

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_THEME_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SOURCE_FIELDS = ("id", "title", "publisher", "date", "url", "themes", "facts")
_SOURCE_OPTIONAL = ("via", "notes")
_THEME_FIELDS = ("title", "paragraph", "sources")
_THEME_OPTIONAL = ("keywords", "evidence")
TEMPLATE_SOURCES = 2  # the offline paragraph of a theme cites the first two sources it lists


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    title: str
    paragraph: str
    sources: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    evidence: bool = True  # False: context only (e.g. the discussion the product grew from), never cited
    translations: Mapping[str, str] = field(default_factory=dict)  # language code -> paragraph

    def paragraph_for(self, lang: str | None) -> str:
        return self.translations.get(lang or "", self.paragraph)


def is_http_url(url: object) -> bool:
    if not isinstance(url, str) or not url or any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class Library:
    """Immutable set of sources and themes with a BM25 index over them."""

    def __init__(self, sources: Iterable[Source], themes: Mapping[str, Theme], *, origin: str = "library") -> None:
        self.sources: tuple[Source, ...] = tuple(sources)
        self.themes: dict[str, Theme] = dict(themes)
        self.origin = origin
        self._by_id = {s.id: s for s in self.sources}
        self.urls: frozenset[str] = frozenset(s.url for s in self.sources)
        citable = [s for s in self.sources if self._citable(s)]
        self._ranker = Ranker(citable, self.themes)

    @classmethod
    def load(cls, path: str | Path) -> Library:
        """Read and validate a library file; ConfigError names the file, the entry and the field."""
        p = Path(path)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"Source library {p} does not exist.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Source library {p} is not valid TOML: {exc}.") from None
        except OSError as exc:
            raise ConfigError(f"Source library {p} cannot be read: {exc.strerror}.") from None
        return cls.from_dict(data, origin=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "library") -> Library:
        raw_themes = data.get("themes", {})
        if not isinstance(raw_themes, Mapping) or not raw_themes:
            raise ConfigError(f"Source library {origin} has no [themes.<key>] tables.")
        themes = {key: _parse_theme(key, value, origin) for key, value in raw_themes.items()}
        raw_sources = data.get("sources", [])
        if not isinstance(raw_sources, list) or not raw_sources:
            raise ConfigError(f"Source library {origin} has no [[sources]] entries.")
        sources: list[Source] = []
        seen: set[str] = set()
        for index, entry in enumerate(raw_sources, start=1):
            source = _parse_source(entry, index, origin, themes)
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
        return cls(sources, themes, origin=origin)

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
        _check_source_values(
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
        return Library(merged, self.themes, origin=self.origin)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def _check_source_values(entry: Mapping[str, Any], where: str, themes: Mapping[str, Theme]) -> None:
    for name in _SOURCE_FIELDS:
        value = entry.get(name)
        if value is None or value in ("", []):
            raise ConfigError(f"{where}: field '{name}' is missing or empty.")
        if name in ("themes", "facts"):
            if not _str_list(value):
                raise ConfigError(f"{where}: field '{name}' must be a list of non-empty strings.")
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: field '{name}' must be a non-empty string.")
    if not _ID.match(entry["id"]):
        raise ConfigError(f"{where}: field 'id' must be letters, digits, '.', '_' or '-' (got {entry['id']!r}).")
    if not is_http_url(entry["url"]):
        raise ConfigError(f"{where}: field 'url' must be an http(s) URL (got {entry['url']!r}).")
    for theme in entry["themes"]:
        if theme not in themes:
            raise ConfigError(f"{where}: field 'themes' has unknown theme {theme!r} (known: {', '.join(themes)}).")
    if not isinstance(entry.get("via", ""), str):
        raise ConfigError(f"{where}: field 'via' must be a string.")


def _parse_source(entry: Any, index: int, origin: str, themes: Mapping[str, Theme]) -> Source:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"Source library {origin}: source #{index} is not a table.")
    sid = entry.get("id")
    where = f"Source library {origin}: source #{index}" + (f" ({sid})" if isinstance(sid, str) and sid else "")
    for name in entry:
        if name not in _SOURCE_FIELDS and name not in _SOURCE_OPTIONAL:
            raise ConfigError(f"{where}: field '{name}' is not a known field.")
    _check_source_values(entry, where, themes)
    return Source(
        id=entry["id"].strip(),
        title=entry["title"].strip(),
        publisher=entry["publisher"].strip(),
        date=entry["date"].strip(),
        url=entry["url"],
        themes=tuple(entry["themes"]),
        facts=tuple(f.strip() for f in entry["facts"]),
        via=entry.get("via", "").strip(),
    )


def _parse_theme(key: str, value: Any, origin: str) -> Theme:
    where = f"Source library {origin}: theme '{key}'"
    if not _THEME_KEY.match(key):
        raise ConfigError(f"{where}: the key must be lowercase letters, digits and '_'.")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} is not a table.")
    for name in value:
        if name not in _THEME_FIELDS and name not in _THEME_OPTIONAL and not name.startswith("paragraph_"):
            raise ConfigError(f"{where}: field '{name}' is not a known field.")
    for name in ("title", "paragraph"):
        if not isinstance(value.get(name), str) or not value[name].strip():
            raise ConfigError(f"{where}: field '{name}' is missing or empty.")
    if not _str_list(value.get("sources")):
        raise ConfigError(f"{where}: field 'sources' must be a non-empty list of source ids.")
    keywords = value.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ConfigError(f"{where}: field 'keywords' must be a list of strings.")
    evidence = value.get("evidence", True)
    if not isinstance(evidence, bool):
        raise ConfigError(f"{where}: field 'evidence' must be true or false.")
    translations = {}
    for name, text in value.items():
        if name.startswith("paragraph_"):
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"{where}: field '{name}' must be a non-empty string.")
            translations[name.removeprefix("paragraph_")] = text.strip()
    return Theme(
        key,
        value["title"].strip(),
        value["paragraph"].strip(),
        tuple(value["sources"]),
        tuple(keywords),
        evidence,
        translations,
    )
