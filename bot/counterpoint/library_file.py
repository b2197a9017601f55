"""The library files' format as pydantic models: themes, sources and the [template] of sources.toml, and the
vetted paragraphs of paragraphs.toml.

The models check each entry on its own; Library.from_dict checks what joins entries (ids unique, themes and
sources that name each other). Every error is one sentence naming the file, the entry (number and id, or theme
key) and the field, so a moderator editing the file knows exactly what to fix. Moderator-added sources
(`/sources add`) go through the same SourceEntry model, with https required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from bot.errors import ConfigError
from bot.models import Source

SOURCE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
THEME_KEY = r"^[a-z][a-z0-9_]{0,39}$"
LANG_CODE = r"^[a-z]{2,3}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def is_http_url(url: object, *, schemes: Sequence[str] = ("http", "https")) -> bool:
    if not isinstance(url, str) or not url or any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in schemes and bool(parts.netloc)


def _http_url(url: str) -> str:
    if not is_http_url(url):
        raise ValueError(f"must be an http(s) URL (got {url!r})")
    return url


def _text_list(values: list[str]) -> list[str]:
    if not values:
        raise ValueError("is missing or empty")
    return values


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SourceEntry(_Entry):
    """One [[sources]] table."""

    id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=SOURCE_ID)]
    title: Text
    publisher: Text
    date: Text
    url: Annotated[str, AfterValidator(_http_url)]
    themes: Annotated[list[Text], AfterValidator(_text_list)]
    facts: Annotated[list[Text], AfterValidator(_text_list)]
    via: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    lang: Annotated[str, StringConstraints(pattern=LANG_CODE)] = "en"  # the language the source is written in
    notes: str = ""

    def to_source(self, added_by: str = "") -> Source:
        return Source(
            id=self.id,
            title=self.title,
            publisher=self.publisher,
            date=self.date,
            url=self.url,
            themes=tuple(self.themes),
            facts=tuple(self.facts),
            via=self.via,
            lang=self.lang,
            added_by=added_by,
        )


class ModeratorSourceEntry(SourceEntry):
    """A source added from Discord: https only (a moderator pastes a link; plain http is never needed today)."""

    @model_validator(mode="after")
    def _https(self) -> ModeratorSourceEntry:
        if not is_http_url(self.url, schemes=("https",)):
            raise ValueError(f"url: must start with https:// (got {self.url!r})")
        return self


class ThemeEntry(_Entry):
    """One [themes.<key>] table."""

    title: Text
    paragraph: Text  # English, cites the first two of `sources`; other languages live in paragraphs.toml
    sources: Annotated[list[Text], AfterValidator(_text_list)]
    keywords: list[str] = []
    evidence: bool = True


class TemplateEntry(BaseModel):
    """The optional [template] table: `opener` and `opener_<lang>`."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _openers_only(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for name, text in data.items():
                if name != "opener" and not name.startswith("opener_"):
                    raise ValueError(f"{name}: is not a known field")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(f"{name}: must be a non-empty string")
        return data

    def openers(self) -> dict[str, str]:
        extra = self.model_extra or {}
        return {name.removeprefix("opener").removeprefix("_"): str(text).strip() for name, text in extra.items()}


class ParagraphEntry(_Entry):
    """One [[paragraphs]] table of paragraphs.toml: a vetted paragraph for one theme in one language."""

    theme: Annotated[str, StringConstraints(pattern=THEME_KEY)]
    lang: Annotated[str, StringConstraints(pattern=LANG_CODE)]
    sources: Annotated[list[Text], AfterValidator(_text_list)]
    text: Text


# --- values the library keeps --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A vetted paragraph and the ids of the sources it cites (it states only their facts)."""

    text: str
    sources: tuple[str, ...]
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    title: str
    paragraph: str
    sources: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    evidence: bool = True  # False: context only (e.g. the discussion the product grew from), never cited
    translations: Mapping[str, Paragraph] = field(default_factory=dict)  # language code -> paragraph

    def paragraph_for(self, lang: str | None, n: int = 2) -> Paragraph:
        """The paragraph in `lang` when there is one, else the English one (citing the theme's first n sources)."""
        found = self.translations.get(lang or "en")
        return found or Paragraph(self.paragraph, self.sources[:n])


# --- errors --------------------------------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is missing or empty",
    "extra_forbidden": "is not a known field",
    "string_too_short": "is missing or empty",
    "string_type": "must be a non-empty string",
    "list_type": "must be a list of non-empty strings",
    "bool_type": "must be true or false",
}


def explain(error: ValidationError, where: str, data: Any = None) -> ConfigError:
    """The first problem of a pydantic error as one sentence: `<where>: field '<name>' <what is wrong>.`"""
    first = error.errors(include_url=False)[0]
    loc = [str(part) for part in first["loc"] if not isinstance(part, int)]
    kind = first["type"]
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    name, _, rest = message.partition(": ")
    if not loc and rest and " " not in name:  # a model validator names the field itself ("url: must ...")
        loc, message = [name], rest
    if kind == "string_pattern_mismatch":
        value = first.get("input")
        if loc[:1] == ["id"]:
            message = f"must be letters, digits, '.', '_' or '-' (got {value!r})"
        else:
            message = f"must match {first.get('ctx', {}).get('pattern', '')} (got {value!r})"
    elif kind in _MESSAGES:
        message = _MESSAGES[kind]
    if kind == "missing" and isinstance(data, Mapping) and loc and loc[0] in data:
        message = "is missing or empty"
    field_name = loc[0] if loc else "?"
    return ConfigError(f"{where}: field '{field_name}' {message}.")


def parse_source(entry: Any, index: int, origin: str) -> SourceEntry:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"Source library {origin}: source #{index} is not a table.")
    sid = entry.get("id")
    where = f"Source library {origin}: source #{index}" + (f" ({sid})" if isinstance(sid, str) and sid else "")
    try:
        return SourceEntry.model_validate(dict(entry))
    except ValidationError as exc:
        raise explain(exc, where, entry) from None


def parse_theme(key: str, value: Any, origin: str) -> ThemeEntry:
    where = f"Source library {origin}: theme '{key}'"
    if not isinstance(key, str) or not re.match(THEME_KEY, key):
        raise ConfigError(f"{where}: the key must be lowercase letters, digits and '_'.")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} is not a table.")
    try:
        return ThemeEntry.model_validate(dict(value))
    except ValidationError as exc:
        raise explain(exc, where, value) from None


def parse_openers(value: Any, origin: str) -> dict[str, str]:
    """Keys of the result are language codes, "" for the default."""
    where = f"Source library {origin}: [template]"
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} is not a table.")
    try:
        return TemplateEntry.model_validate(dict(value)).openers()
    except ValidationError as exc:
        raise explain(exc, where, value) from None


def parse_paragraph(entry: Any, index: int, origin: str) -> ParagraphEntry:
    where = f"Paragraphs {origin}: paragraph #{index}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} is not a table.")
    theme, lang = entry.get("theme"), entry.get("lang")
    if isinstance(theme, str) and isinstance(lang, str):
        where += f" ({theme}, {lang})"
    try:
        return ParagraphEntry.model_validate(dict(entry))
    except ValidationError as exc:
        raise explain(exc, where, entry) from None


def parse_moderator_source(values: Mapping[str, Any], added_by: str) -> Source:
    """A source typed into /sources add, checked by the file's own model (https only)."""
    where = f"The source {values.get('id') or ''}".rstrip()
    try:
        return ModeratorSourceEntry.model_validate(dict(values)).to_source(added_by)
    except ValidationError as exc:
        raise explain(exc, where, values) from None
