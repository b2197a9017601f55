"""Counterpoint -> the body of a Reddit comment: the text, numbered source links, and the bot footer."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from bot.models import Counterpoint
from bot.text.clean import neutralize_mentions, strip_links

REDDIT_MAX_CHARS = 10_000
# Reddit's superscript keeps the footer small; each ^( ) group must hold balanced parentheses.
FOOTER = (
    "^(I'm a bot. My sources come only from a curated library that people review; I pick the ones that match "
    'the comment. Reply "!optout" and I will not answer you again.)'
)


def _escape_title(title: str) -> str:
    for ch in "\\[]*_`^~>#|":
        title = title.replace(ch, "\\" + ch)
    return " ".join(title.split())


def _safe_url(url: str) -> str | None:
    """Only http(s) URLs, with the characters that would end a markdown link target percent-encoded."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%-._~")


def render_sources(cp: Counterpoint) -> list[str]:
    """`1. [title](url)`, numbered as the citations are, so the [n] markers in the text still point right."""
    lines = []
    for n, cite in enumerate(cp.citations, 1):
        url = _safe_url(cite.url)
        if url:
            lines.append(f"{n}. [{_escape_title(cite.title) or url}]({url})")
    return lines


def render_reply(cp: Counterpoint) -> str:
    # The composer already sanitized the text; this runs again because a queued payload went through storage.
    text = neutralize_mentions(strip_links(cp.text)).strip()
    parts = [text]
    sources = render_sources(cp)
    if sources:
        parts += ["**Sources**", "\n".join(sources)]
    parts += ["---", FOOTER]
    body = "\n\n".join(parts)
    if len(body) > REDDIT_MAX_CHARS:  # cannot happen with the composer's caps; a guard, not a feature
        keep = REDDIT_MAX_CHARS - len(body) + len(text) - 1
        body = body.replace(text, text[: max(0, keep)] + "…", 1)
    return body
