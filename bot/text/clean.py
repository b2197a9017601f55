"""Pure text hygiene for anything the bot shows: reasoning blocks, links, mentions, whitespace, length.

The rule for links is the simplest one that cannot be talked around: every URL, bare domain or markdown link in
model text is removed. Citations carry the only URLs the bot shows, and they come from the library.
"""

from __future__ import annotations

import re

from bot.text.normalize import CJK_CLASS

MAX_CHARS = 1500  # well under Discord's 2,000-character message, 4,096 embed description and Reddit's 10,000

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_THINK_STRAY_CLOSE = re.compile(r"\A.*</(?:think|thinking|reasoning)>", re.S | re.I)  # reasoning came before it
_THINK_UNCLOSED = re.compile(r"<(?:think|thinking|reasoning)>.*\Z", re.S | re.I)  # cut off mid-thought
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# [anchor](url "title") and ![alt](url); the url may hold one level of parentheses (javascript:alert(1))
_MD_LINK = re.compile(
    r"(!?)\[([^\[\]\n]{0,300})\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)"
)
_MD_REF_DEF = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_SCHEME_URL = re.compile(
    r"(?i)(?<![a-z0-9])[a-z][a-z0-9+.-]{1,15}://[^\s<>()\[\]{}\"'`]*|(?<![a-z0-9.])www\.[^\s<>()\[\]{}\"'`]+"
)
_EMAIL = re.compile(r"(?i)(?<![a-z0-9._%+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?![a-z0-9-])")
_TLDS = (
    "com|net|org|io|ai|gg|ly|co|xyz|info|biz|app|dev|cn|ru|uk|de|fr|tk|link|site|online|top|click|gov|edu|tv|eu|"
    "cc|ws|su|news|blog|page|live|store|shop|club|pro|jp|kr|tw|hk|sg|vip|win|icu|zip|mov|lol|fun|me|us"
)
_DOMAIN_WITH_PATH = re.compile(r"(?i)(?<![a-z0-9@.-])(?:[a-z0-9-]+\.)+[a-z]{2,24}(?::\d+)?/[^\s<>()\[\]{}\"'`]*")
_BARE_DOMAIN = re.compile(rf"(?i)(?<![a-z0-9@.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9-])")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]|（\s*）")

_MASS_MENTION = re.compile(r"@(everyone|here)", re.I)
_USER_MENTION = re.compile(r"<@!?\d+>")
_ROLE_MENTION = re.compile(r"<@&\d+>")
_CHANNEL_MENTION = re.compile(r"<#\d+>")
_REDDIT_USER = re.compile(r"(?i)(?<![a-z0-9_/])/?u/[a-z0-9_-]{3,20}")
ZWSP = "\u200b"

_SOURCES_SECTION = re.compile(
    r"\n\s*(?:\*\*|__)?\s*(?:sources?|references?|citations?|来源|參考|参考资料|参考文献|出处)\s*(?:\*\*|__)?\s*[:：].*\Z",
    re.S | re.I,
)
_UNIT = re.compile(f"[{CJK_CLASS}]|[^\\s{CJK_CLASS}]+")
_MARKER_TOKEN = re.compile(r"^(?:\[\d{1,2}\])+[.,;:!?。，；：！？]*$")
_SENTENCE_END = re.compile(r"[.!?。！？](?:\[\d{1,2}\])*(?=\s|$)")


def strip_think(text: str) -> str:
    text = _THINK_BLOCK.sub(" ", text)
    text = _THINK_STRAY_CLOSE.sub(" ", text)
    return _THINK_UNCLOSED.sub(" ", text)


def _link_replacement(match: re.Match[str]) -> str:
    image, anchor = match.group(1), match.group(2).strip()
    if image:
        return ""
    if anchor.isdigit() and len(anchor) <= 2:
        return f"[{anchor}]"  # a citation marker written as a link: keep the marker, lose the link
    if not anchor or has_link(anchor):
        return ""
    return anchor


def has_link(text: str) -> bool:
    return any(p.search(text) for p in (_SCHEME_URL, _DOMAIN_WITH_PATH, _BARE_DOMAIN, _EMAIL))


def strip_links(text: str) -> str:
    """Markdown links become their plain anchor text (dropped if the anchor itself looks like a link); every URL,
    bare domain and e-mail address is removed."""
    text = _MD_LINK.sub(_link_replacement, text)
    text = _MD_REF_DEF.sub("", text)
    for pattern in (_SCHEME_URL, _EMAIL, _DOMAIN_WITH_PATH, _BARE_DOMAIN):
        text = pattern.sub("", text)
    return _EMPTY_BRACKETS.sub("", text)


def neutralize_mentions(text: str) -> str:
    """No ping survives: mass mentions get a zero-width space, id mentions become plain words."""
    # invisible controls go first: removed later, "@<LRM>everyone" would otherwise come out as a live "@everyone"
    text = _CONTROL.sub("", text)
    text = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    text = _USER_MENTION.sub("someone", text)
    text = _ROLE_MENTION.sub("a role", text)
    text = _CHANNEL_MENTION.sub("a channel", text)
    return _REDDIT_USER.sub("a user", text)


def has_live_mention(text: str) -> bool:
    return any(p.search(text) for p in (_MASS_MENTION, _USER_MENTION, _ROLE_MENTION, _CHANNEL_MENTION, _REDDIT_USER))


def collapse_whitespace(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    return text.strip()


def drop_sources_section(text: str) -> str:
    """Models like to append their own "Sources:" list; the citations are rendered from the library instead."""
    return _SOURCES_SECTION.sub("", text)


def _weight(unit: str) -> float:
    if len(unit) == 1 and re.match(f"[{CJK_CLASS}]", unit):
        return 0.5  # about two CJK characters per English word
    if _MARKER_TOKEN.match(unit) or not any(ch.isalnum() for ch in unit):
        return 0.0
    return 1.0


def count_words(text: str) -> float:
    return sum(_weight(m.group()) for m in _UNIT.finditer(text))


def cap_text(text: str, max_words: int, max_chars: int = MAX_CHARS) -> str:
    """Cut at a word boundary within both limits, preferring the end of a sentence; "…" marks a mid-sentence cut."""
    total, end = 0.0, 0
    for match in _UNIT.finditer(text):
        total += _weight(match.group())
        if total > max_words or match.end() > max_chars - 1:
            break
        end = match.end()
    else:
        return text
    cut = text[:end]
    sentences = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if sentences and sentences[-1] >= len(cut) // 2:
        return cut[: sentences[-1]].rstrip()
    return cut.rstrip(" ,;:-–—，；：、") + "…"


def sanitize(text: str, *, max_words: int = 120, max_chars: int = MAX_CHARS) -> str:
    """Everything shown goes through here: no reasoning, no links, no pings, tidy, within limits."""
    text = strip_think(text)
    text = drop_sources_section(strip_links(text))
    text = collapse_whitespace(neutralize_mentions(text))
    return cap_text(text, max_words, max_chars)
