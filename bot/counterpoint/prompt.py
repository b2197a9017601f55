"""The counterpoint prompt: the static system text lives in config/prompts/counterpoint.md; the user message
carries the numbered sources and, last, the post between <post> tags as data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.models import Source
from bot.text.normalize import LANGUAGE_NAMES

PROMPT_FILE = "counterpoint.md"
MAX_POST_CHARS = 2000  # the prompt carries the post, not a whole essay


def reply_schema(source_ids: Sequence[str]) -> dict[str, Any]:
    """The JSON the model must return: its text and the ids (only retrieved ones) it cited."""
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 1500},  # bounded: small models ramble
            "source_ids": {"type": "array", "maxItems": 5, "items": {"type": "string", "enum": list(source_ids)}},
        },
        "required": ["text", "source_ids"],
        "additionalProperties": False,
    }


def load_prompt(folder: Path) -> str:
    path = folder / PROMPT_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"Prompt file {path} cannot be read: {exc.strerror}.") from None


def _as_data(post: str) -> str:
    """The post goes between <post> tags; it must not be able to close them itself."""
    return re.sub(r"(?i)<(/?)post", r"‹\1post", post[:MAX_POST_CHARS])


def user_message(post: str, sources: Sequence[Source], *, lang: str | None, max_words: int) -> str:
    lines = ["Numbered sources you may cite:"]
    for n, source in enumerate(sources, start=1):
        lines.append(f"[{n}] id: {source.id} | {source.cite_title}, {source.date}")
        lines.extend(f"    - {fact}" for fact in source.facts)
    language = LANGUAGE_NAMES.get(lang or "", "") or "the same language as the post"
    lines += ["", f"Word limit: {max_words} words. Language: {language}.", "", "<post>", _as_data(post), "</post>"]
    return "\n".join(lines)
