"""The library file's format: themes and sources as read from TOML, checked field by field.

Every error is one sentence naming the file, the entry (number and id, or theme key) and the field, so a moderator
editing config/sources.toml knows exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.models import Source

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_THEME_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SOURCE_FIELDS = ("id", "title", "publisher", "date", "url", "themes", "facts")
_SOURCE_OPTIONAL = ("via", "notes")
_THEME_FIELDS = ("title", "paragraph", "sources")
_THEME_OPTIONAL = ("keywords", "evidence")


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


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def check_source_values(entry: Mapping[str, Any], where: str, themes: Mapping[str, Theme]) -> None:
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


def parse_source(entry: Any, index: int, origin: str, themes: Mapping[str, Theme]) -> Source:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"Source library {origin}: source #{index} is not a table.")
    sid = entry.get("id")
    where = f"Source library {origin}: source #{index}" + (f" ({sid})" if isinstance(sid, str) and sid else "")
    for name in entry:
        if name not in _SOURCE_FIELDS and name not in _SOURCE_OPTIONAL:
            raise ConfigError(f"{where}: field '{name}' is not a known field.")
    check_source_values(entry, where, themes)
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


def parse_theme(key: str, value: Any, origin: str) -> Theme:
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


def parse_openers(value: Any, origin: str) -> dict[str, str]:
    """Optional [template] table: `opener` (any language) and `opener_<lang>`, one sentence put before the offline
    paragraphs. Keys of the result are language codes, "" for the default."""
    where = f"Source library {origin}: [template]"
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} is not a table.")
    openers = {}
    for name, text in value.items():
        if name != "opener" and not name.startswith("opener_"):
            raise ConfigError(f"{where}: field '{name}' is not a known field.")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}: field '{name}' must be a non-empty string.")
        openers[name.removeprefix("opener").removeprefix("_")] = text.strip()
    return openers
