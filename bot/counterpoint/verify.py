"""Verification of a model-written counterpoint before anything is shown. Pure functions, no I/O.

`verify()` takes what the model returned and either gives back text that is safe to show, with the citations that
survived, or says why the output must be thrown away (the composer then falls back to the offline template).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.text import programs
from bot.text.clean import (
    collapse_whitespace,
    drop_sources_section,
    has_link,
    has_live_mention,
    neutralize_mentions,
    strip_links,
    strip_think,
)
from bot.text.limits import MAX_CHARS, cap_text, count_words
from bot.text.normalize import normalize, tokenize

MIN_WORDS = 8  # shorter than this is not a counterpoint

_MARKER = programs.compile(r"[\[【［]\s*\^?\s*(\d{1,2}(?:\s*(?:[,，、;]|[-–])\s*\d{1,2})*)\s*[\]】］]")
_ID_MARKER = programs.compile(r"\[\s*([A-Za-z][A-Za-z0-9._-]{2,79})\s*\]")

_INJECTION_CUE = programs.compile(
    r"(?is)\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}?\b(?:instructions?|prompts?|rules|guidelines|"
    r"directions|guardrails)\b|\bsystem\s+prompt\b|\byou\s+are\s+now\b|\bnew\s+instructions?\b|\bjailbreak|"
    r"\bdeveloper\s+mode\b|\bpretend\s+(?:to\s+be|you)\b|\bact\s+as\b|"
    r"(?:忽略|无视|忘记|無視|忘記).{0,12}(?:指令|指示|提示|规则|規則|设定)|系统提示|系統提示"
)
_QUOTE_OPEN = "\"“”'‘’«»「」『』"
_COMMAND = programs.compile(
    r"(?i)\b(?P<verb>say|write|reply|respond|answer|output|print|repeat|declare)\b"
    r"(?:\s+(?:with|only|exactly|just|this|that|the\s+words?|back|after\s+me|instead|by\s+saying|in\s+your\s+reply))*"
    rf"\s*[:：-]?\s*(?:[{_QUOTE_OPEN}]\s*(?P<q>[^{_QUOTE_OPEN}\n]{{2,200}}?)\s*[{_QUOTE_OPEN}]"
    r"|(?P<r>[^\n.!?。！？]{2,200}))"
)
_ZH_COMMAND = programs.compile(
    rf"(?:说|說|回复|回覆|回答|输出|輸出|写|寫|声明|聲明)\s*[:：]?\s*[{_QUOTE_OPEN}]?(?P<q>[^{_QUOTE_OPEN}\n。！？]{{2,100}})"
)
_STRONG_VERBS = frozenset({"reply", "respond", "output", "print", "repeat", "declare"})
_SELF_TALK = programs.compile(
    r"(?i)\bsystem\s+prompt\b|\bmy\s+(?:instructions|prompt|rules)\b|\bi\s+(?:was|am|have\s+been)\s+instructed\b|"
    r"\bas\s+an\s+ai(?:\s+language)?\s+model\b|系统提示|我的指令"
)
_TONE = programs.compile(
    r"(?i)\b(?:misinformation|disinformation|fake\s+news|propaganda|idiot\w*|stupid\w*|moron\w*|ignorant)\b|"
    r"谣言|虚假信息|假新闻|愚蠢|白痴|无知"
)
_PING = programs.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>", re.I)
_INVISIBLE = programs.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
LEAK_SHINGLE = 10  # this many consecutive words of the system prompt in an answer count as a leak
OBEY_SHINGLE = 6


@dataclass(frozen=True, slots=True)
class Checked:
    text: str
    cited: tuple[str, ...]  # source ids in the order of their markers [1]..[n]
    rejected: str = ""  # why the output cannot be used; "" when it can

    @property
    def ok(self) -> bool:
        return not self.rejected


def _marker_numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,，、;]\s*", body):
        bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x.isdigit()]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 10:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def renumber_citations(text: str, retrieved: Sequence[str], listed: Sequence[str] = ()) -> tuple[str, list[str]]:
    """Markers [n] refer to the n-th retrieved source. Keep those, renumber them 1..m in order of first use, drop
    markers pointing nowhere. With no marker at all, the listed ids that were retrieved are cited at the end."""
    order: list[str] = []
    index = {sid: i + 1 for i, sid in enumerate(retrieved)}

    def numbered(numbers: list[int]) -> str:
        out: list[int] = []
        for n in numbers:
            if 1 <= n <= len(retrieved):
                sid = retrieved[n - 1]
                if sid not in order:
                    order.append(sid)
                if order.index(sid) + 1 not in out:
                    out.append(order.index(sid) + 1)
        return "".join(f"[{n}]" for n in out)

    text = _ID_MARKER.sub(lambda m: f"[{index[m.group(1)]}]" if m.group(1) in index else m.group(0), text)
    text = _MARKER.sub(lambda m: numbered(_marker_numbers(m.group(1))), text)
    if not order:
        order = [sid for sid in dict.fromkeys(listed) if sid in index]
        if order:
            text = text.rstrip() + " " + "".join(f"[{n}]" for n in range(1, len(order) + 1))
    return text, order


def _shingles(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def injected_payloads(post: str) -> list[str]:
    """What an embedded instruction in the post asks the bot to say (empty when the post gives none)."""
    cue = bool(_INJECTION_CUE.search(post))
    payloads = []
    for m in _COMMAND.finditer(post):
        quoted = m.group("q")
        if quoted and (cue or m.group("verb").lower() in _STRONG_VERBS):
            payloads.append(quoted)
        elif cue and m.group("r") and len(tokenize(m.group("r"), keep_stopwords=True)) >= 3:
            payloads.append(m.group("r"))
    if cue:
        payloads.extend(m.group("q") for m in _ZH_COMMAND.finditer(post))
    return [p for p in payloads if len(tokenize(p, keep_stopwords=True)) >= 2]


def _pings(text: str) -> set[str]:
    """Mentions as a reader sees them: fullwidth forms folded, invisible characters removed."""
    flat = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return {m.group(0).lower() for m in _PING.finditer(flat)}


def obeys_injection(post: str, output: str) -> bool:
    """True when the output does what an instruction inside the post asked for."""
    if _pings(post) & _pings(output):
        return True  # it addresses whom the post wanted addressed: neutralised or not, that is obeying
    flat_out = " " + " ".join(tokenize(output, keep_stopwords=True)) + " "
    for payload in injected_payloads(post):
        if " " + " ".join(tokenize(payload, keep_stopwords=True)) + " " in flat_out:
            return True
    cue = _INJECTION_CUE.search(post)
    if cue is None:
        return False
    injected = _shingles(tokenize(post[cue.start() :], keep_stopwords=True), OBEY_SHINGLE)
    return bool(injected & _shingles(tokenize(output, keep_stopwords=True), OBEY_SHINGLE))


def leaks_prompt(output: str, system_prompt: str) -> bool:
    """True when the output quotes the system prompt (any long run of its words) or talks about its instructions.
    Bullet lines ("- ...") of the prompt are talking points the answer may legitimately echo, so they are skipped."""
    if _SELF_TALK.search(output):
        return True
    prose = "\n".join(line for line in system_prompt.splitlines() if not line.lstrip().startswith("-"))
    secret = _shingles(tokenize(prose, keep_stopwords=True), LEAK_SHINGLE)
    return bool(secret & _shingles(tokenize(output, keep_stopwords=True), LEAK_SHINGLE))


def bad_tone(output: str) -> bool:
    return bool(_TONE.search(normalize(output)))


def verify(
    text: object,
    source_ids: object,
    retrieved: Sequence[str],
    *,
    post: str = "",
    system_prompt: str = "",
    max_words: int = 120,
    max_chars: int = MAX_CHARS,
) -> Checked:
    """Make model output safe to show, or reject it. Never raises on odd input."""
    if not isinstance(text, str):
        return Checked("", (), "text is not a string")
    listed = [s for s in source_ids if isinstance(s, str)] if isinstance(source_ids, list) else []
    raw = strip_think(text)
    if post and obeys_injection(post, raw):
        return Checked("", (), "the output follows an instruction embedded in the post")
    if system_prompt and leaks_prompt(raw, system_prompt):
        return Checked("", (), "the output reveals or discusses the prompt")
    if bad_tone(raw):
        return Checked("", (), "the output uses a dismissive word")
    clean = collapse_whitespace(neutralize_mentions(drop_sources_section(strip_links(raw))))
    clean = cap_text(clean, max_words, max_chars - 16)  # room for markers appended below
    clean, cited = renumber_citations(clean, retrieved, listed)
    clean = collapse_whitespace(clean)
    if not cited:
        return Checked("", (), "no citation of a retrieved source survived")
    if count_words(clean) < MIN_WORDS:
        return Checked("", (), "the output is too short once cleaned")
    if has_link(clean) or has_live_mention(clean) or len(clean) > max_chars:
        return Checked("", (), "the output is still unsafe after cleaning")  # defence in depth; should not happen
    return Checked(clean, tuple(cited))
