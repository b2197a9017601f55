"""The one output cleaner: everything the bot shows passes through here.

Reasoning blocks, links and pings are removed by rules simple enough that a post cannot talk its way around them:
every URL, bare domain (any TLD in the Public Suffix List), IP address, script scheme or markdown link in text the
bot did not write itself is removed; citations carry the only URLs the bot shows, and they come from the library.
Invisible characters are removed before anything is matched, so "@<word joiner>here" cannot hide a ping, and
fullwidth look-alikes are folded so "＠everyone" is caught like "@everyone".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from bot.text import programs
from bot.text.limits import MAX_CHARS, cap_text

_THINK_TAGS = "think|thinking|reasoning"
_THINK_BLOCK = programs.compile(rf"<({_THINK_TAGS})>.*?</\1>", re.S | re.I)
_THINK_STRAY_CLOSE = programs.compile(rf"\A.*</(?:{_THINK_TAGS})>", re.S | re.I)  # the template opened it in the prompt
_THINK_UNCLOSED = programs.compile(rf"<(?:{_THINK_TAGS})>.*\Z", re.S | re.I)  # cut off mid-thought
# C0/C1 controls (not tab/newline) and the format characters (zero-width, bidi, soft hyphen, word joiner, BOM) that
# can hide a ping or a link; U+200B stays: it is how a ping is broken on purpose (see neutralize_mentions)
_INVISIBLE = programs.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200c-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)

# [anchor](url "title") and ![alt](url); the url may hold one level of parentheses (javascript:alert(1))
_MD_LINK = programs.compile(
    r"(!?)\[([^\[\]\n]{0,300})\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)"
)
_MD_REF_DEF = programs.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_STOP = r"[^\s<>()\[\]{}\"'`]"
_SCHEME_URL = programs.compile(rf"(?i)(?<![a-z0-9])[a-z][a-z0-9+.-]{{1,15}}://{_STOP}*|(?<![a-z0-9.])www\.{_STOP}+")
_SCRIPT_SCHEME = programs.compile(r"(?i)(?<![a-z0-9])(?:javascript|vbscript|data|file|blob):[^\s<>\[\]{}\"'`]+")
_IP = programs.compile(rf"(?<![\w.])\d{{1,3}}(?:\.\d{{1,3}}){{3}}(?::\d+)?(?:/{_STOP}*)?(?![\w.])")
_EMAIL = programs.compile(r"(?i)(?<![a-z0-9._%+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?![a-z0-9-])")
# a dotted name: checked against the TLD list in code, so "llama.cpp" and "settings.toml" stay, "evil.sh" goes
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"  # no spaces between words: no label
_L = rf"[^\W_{_CJK}]"  # a letter or digit that can be part of a domain label
_DOTTED = programs.compile(
    rf"(?<![^\W{_CJK}]|[@.-])(?:{_L}(?:(?:{_L}|-){{0,61}}{_L})?\.)+([^\W\d_{_CJK}]{{2,63}})"
    rf"(?::\d+)?(?:/{_STOP}*)?(?!{_L}|-)"
)
_TLD_HINT = programs.compile(rf"\.([^\W\d_{_CJK}]{{2,63}})(?![^\W{_CJK}])")  # cheap: is there a ".tld" at all?
_DIGIT_DOT = programs.compile(r"\d\.\d")
_TOKEN = programs.compile(r"\S+")
_EMPTY_BRACKETS = programs.compile(r"\(\s*\)|<\s*>|\[\s*\]|（\s*）")

_MASS_MENTION = programs.compile(r"@(everyone|here)", re.I)
_USER_MENTION = programs.compile(r"<@!?\d+>")
_ROLE_MENTION = programs.compile(r"<@&\d+>")
_CHANNEL_MENTION = programs.compile(r"<#\d+>")
_REDDIT_USER = programs.compile(r"(?i)(?<![a-z0-9_/])/?u/[a-z0-9_-]{3,20}")
_SUBREDDIT = programs.compile(r"(?i)(?<![a-z0-9_/])(/?)r/(?=[a-z0-9_]{2,21})")
ZWSP = "\u200b"

_SOURCES_SECTION = programs.compile(
    r"\n\s*(?:\*\*|__)?\s*(?:sources?|references?|citations?|来源|參考|参考资料|参考文献|出处)\s*(?:\*\*|__)?\s*[:：].*\Z",
    re.S | re.I,
)


@cache
def _tlds() -> frozenset[str]:
    text = resources.files("bot.text").joinpath("tlds.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.split() if not line.startswith("#"))


def _is_domain(match: re.Match[str]) -> bool:
    return match.group(1).casefold() in _tlds()


# fullwidth and small-form letters, digits, "@", "." and "/" read as their ASCII twins; CJK punctuation ("，", "：")
# and "…" are left alone, which full NFKC would not do
_FOLD = {c: ord(unicodedata.normalize("NFKC", chr(c))) for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B))}
_FOLD |= {c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)} | {0xFF20: 0x40, 0xFE6B: 0x40, 0xFF0E: 0x2E, 0xFE52: 0x2E}
_FOLD |= {0xFF0F: 0x2F}


def fold(text: str) -> str:
    """Invisible characters out, fullwidth look-alikes ("＠everyone", "ｅｖｉｌ．ｃｏｍ") folded: what a reader sees."""
    text = _INVISIBLE.sub("", text)
    return text if text.isascii() else text.translate(_FOLD)


def _gap(match: re.Match[str]) -> str:
    """A removed block leaves a space only where it would otherwise glue two words together."""
    start = match.start()
    return " " if start > 0 and not match.string[start - 1].isspace() else ""


def strip_think(text: str) -> str:
    """Remove reasoning blocks. A stray closing tag means the template opened the block in the prompt (Qwen3,
    DeepSeek-R1), so everything before it is reasoning; an unclosed opening tag never reached an answer."""
    text = _THINK_BLOCK.sub(_gap, text)
    text = _THINK_STRAY_CLOSE.sub(" ", text)
    return _THINK_UNCLOSED.sub(" ", text).strip()


def _link_replacement(match: re.Match[str]) -> str:
    image, anchor = match.group(1), match.group(2).strip()
    if image:
        return ""
    if anchor.isdigit() and len(anchor) <= 2:
        return f"[{anchor}]"  # a citation marker written as a link: keep the marker, lose the link
    if not anchor or has_link(anchor):
        return ""
    return anchor


def _link_patterns(text: str) -> list[re.Pattern[str]]:
    """Only the patterns whose anchor character is present: most chat has none, and each full scan costs."""
    lowered = text.lower()
    found = [_MD_LINK] if "](" in text else []
    if "://" in text or "www." in lowered:
        found.append(_SCHEME_URL)
    if ":" in text:
        found.append(_SCRIPT_SCHEME)
    if "@" in text:
        found.append(_EMAIL)
    if _DIGIT_DOT.search(text):
        found.append(_IP)
    return found


def _domains(text: str) -> bool:
    return any(m.group(1).casefold() in _tlds() for m in _TLD_HINT.finditer(text))


def _strip_domains(token: re.Match[str]) -> str:
    """Per whitespace-separated token: the full domain pattern is costly, and only a few tokens hold a ".tld"."""
    word = token.group(0)
    if not _domains(word):
        return word
    return _DOTTED.sub(lambda m: "" if _is_domain(m) else m.group(0), word)


def has_link(text: str) -> bool:
    text = fold(text)
    if any(p.search(text) for p in _link_patterns(text)):
        return True
    return _domains(text) and strip_links(text) != text


def strip_links(text: str) -> str:
    """Markdown links become their plain anchor text (dropped if the anchor itself looks like a link); every URL,
    script scheme, IP address, bare domain and e-mail address is removed."""
    before = text = fold(text)
    if "]:" in text:
        text = _MD_REF_DEF.sub("", text)
    for pattern in _link_patterns(text):
        text = pattern.sub(_link_replacement if pattern is _MD_LINK else "", text)
    if _domains(text):
        text = _TOKEN.sub(_strip_domains, text)
    return text if text == before else _EMPTY_BRACKETS.sub("", text)


def neutralize_mentions(text: str) -> str:
    """No ping or autolink survives: mass mentions and r/ get a zero-width space, id mentions become plain words."""
    text = fold(text)  # invisible characters first: "@<LRM>everyone" would otherwise come out as a live ping
    if "@" in text:
        text = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    if "<" in text:
        text = _USER_MENTION.sub("someone", text)
        text = _ROLE_MENTION.sub("a role", text)
        text = _CHANNEL_MENTION.sub("a channel", text)
    if "/" in text:
        text = _REDDIT_USER.sub("a user", text)
        text = _SUBREDDIT.sub(lambda m: m.group(1) + "r" + ZWSP + "/", text)
    return text


def has_live_mention(text: str) -> bool:
    text = fold(text)
    patterns = (_MASS_MENTION, _USER_MENTION, _ROLE_MENTION, _CHANNEL_MENTION, _REDDIT_USER, _SUBREDDIT)
    return any(p.search(text) for p in patterns)


def collapse_whitespace(text: str) -> str:
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    return text.strip()


def drop_sources_section(text: str) -> str:
    """Models like to append their own "Sources:" list; the citations are rendered from the library instead."""
    return _SOURCES_SECTION.sub("", text)


def clean_quote(text: str) -> str:
    """Someone else's words, shown by the bot (summaries, review items, shadow notes): no links, no pings."""
    return collapse_whitespace(neutralize_mentions(strip_links(strip_think(text))))


def sanitize(text: str, *, max_words: int = 120, max_chars: int = MAX_CHARS) -> str:
    """Model prose for public view: no reasoning, no links, no pings, no own "Sources:" list, tidy, within limits."""
    text = drop_sources_section(strip_links(strip_think(text)))
    return cap_text(collapse_whitespace(neutralize_mentions(text)), max_words, max_chars)


def quote(text: str) -> str:
    """clean_quote on one line: for excerpts inside a sentence, a field or a bullet."""
    return " ".join(clean_quote(text).split())
