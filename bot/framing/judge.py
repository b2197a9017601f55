"""The model half of the framing detector: prompt, JSON schema, and turning a reply into a checked Verdict.

The prompt lives in config/prompts/framing.md: the system text first (the same for every post, so servers can
reuse their prompt cache), then two templates after `=== parent ===` and `=== user ===` lines for the variable
part. The post goes between <post> tags as data and cannot close them itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError, LLMBadResponse
from bot.framing.lexical import side_label

if TYPE_CHECKING:  # the labelled set and its scoring load only when examples are asked for
    from bot.framing.evaluate import Item
from bot.models import LABELS, PrefilterResult, Verdict

PROMPT_FILE = "framing.md"
POST_CHARS = 4_000  # the model judges the start of a very long post; the prefilter saw more
PARENT_CHARS = 1_500
REASON_CHARS = 200
_SECTION = re.compile(r"^=== (\w+) ===[ \t]*$", re.MULTILINE)
_TAGS = re.compile(r"(?i)<(/?)(post|parent)")

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": list(LABELS)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        # bounds matter to small models: a grammar-constrained sampler otherwise lets a 135M model ramble inside a
        # string until max_tokens (measured: 200 tokens of junk, 25 s, then a truncated reply)
        "quote": {"type": "string", "maxLength": 300},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["label", "confidence", "quote", "reason"],
    "additionalProperties": False,
}


def _as_data(text: str, limit: int) -> str:
    """Neutralise our own delimiters inside user text, so a post cannot end the <post> block early."""
    return _TAGS.sub(r"‹\1\2", text[:limit])


@dataclass(frozen=True)
class FramingPrompt:
    system: str
    parent: str
    user: str

    @classmethod
    def load(cls, folder: Path) -> FramingPrompt:
        path = folder / PROMPT_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Prompt file {path} cannot be read: {exc.strerror}.") from None
        parts = _SECTION.split(text)  # [system, name1, body1, name2, body2, ...]
        sections = {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
        if "user" not in sections or "{{POST}}" not in sections["user"]:
            raise ConfigError(f"Prompt file {path} needs a '=== user ===' section containing {{{{POST}}}}.")
        return cls(parts[0].strip(), sections.get("parent", "{{PARENT}}"), sections["user"])

    def messages(self, post: str, parent: str | None = None) -> list[dict[str, str]]:
        block = ""
        if parent and parent.strip():
            block = self.parent.replace("{{PARENT}}", _as_data(parent, PARENT_CHARS)) + "\n\n"
        user = self.user.replace("{{PARENT_BLOCK}}", block).replace("{{POST}}", _as_data(post, POST_CHARS))
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def exact_quote(quote: str, post: str) -> str:
    """The quote as it appears in the post (whitespace may differ), or "" when the post does not contain it."""
    quote = quote.strip().strip("\"'“”‘’«»「」『』")
    if not quote:
        return ""
    if quote in post:
        return quote
    words = quote.split()
    found = re.search(r"\s+".join(map(re.escape, words)), post) if words else None
    return found.group() if found else ""


def verdict_from_reply(reply: Any, post: str, pf: PrefilterResult, *, threshold: float) -> Verdict:
    """Check the model's JSON and apply the frames threshold; LLMBadResponse when it is unusable."""
    if not isinstance(reply, dict):
        raise LLMBadResponse("framing reply is not a JSON object")
    label, confidence = reply.get("label"), reply.get("confidence")
    if label not in LABELS or isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise LLMBadResponse(f"framing reply has no valid label/confidence: {str(reply)[:120]}")
    confidence = min(1.0, max(0.0, float(confidence)))
    quote = exact_quote(str(reply.get("quote") or ""), post)
    reason = " ".join(str(reply.get("reason") or "").split())[:REASON_CHARS]
    if label == "frames" and confidence < threshold:
        # unsure "frames" is not enough to speak up; the post still names a side or it does not
        return Verdict(
            side_label(pf),
            round(1.0 - confidence, 3),
            "llm",
            pf,
            quote,
            f"model unsure ({confidence:.2f} < {threshold:.2f}): {reason}",
        )
    return Verdict(label, round(confidence, 3), "llm", pf, quote, reason)


FEW_SHOT = (("frames", 2), ("mentions", 1), ("other", 1))
_SHOT_REASON = {
    "frames": "presents AI as a contest between the US and China",
    "mentions": "names a side without a national contest",
    "other": "no national side",
}


def few_shot_items(items: Sequence[Item]) -> list[Item]:
    """A few short, clear English rows from the bundled set, the same ones every time (calibration leaves them out
    of its measurement, so the examples never grade themselves)."""
    clear = sorted((i for i in items if not i.borderline and i.lang == "en" and len(i.text) >= 60),
                   key=lambda i: (len(i.text), i.id))  # fmt: skip
    return [i for label, k in FEW_SHOT for i in [j for j in clear if j.label == label][:k]]


def few_shot_messages(items: Sequence[Item]) -> list[dict[str, str]]:
    """Worked examples as earlier turns of the conversation, between the system text and the post."""
    out = []
    for item in few_shot_items(items):
        answer = {"label": item.label, "confidence": 0.9, "quote": "", "reason": _SHOT_REASON[item.label]}
        out += [{"role": "user", "content": f"<post>\n{_as_data(item.text, POST_CHARS)}\n</post>"},
                {"role": "assistant", "content": json.dumps(answer)}]  # fmt: skip
    return out
