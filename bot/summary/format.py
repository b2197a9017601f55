"""Pure text helpers for summaries: posts as prompt data, the reply schema, parsing, merging, rendering, hashing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from bot.models import Engine, Post, Summary, SummaryPoint
from bot.text.clean import neutralize_mentions, quote
from bot.text.limits import clip

SECTIONS = ("points", "disagreements", "open_questions", "framing")
# most-important-first caps; the prompts ask for the same numbers
LIMITS = {"points": 8, "disagreements": 5, "open_questions": 4, "framing": 4}
TITLES = {
    "points": "Main points",
    "disagreements": "Disagreements",
    "open_questions": "Open questions",
    "framing": "US-vs-China framing",
}
MAX_POST_CHARS = 1200  # one message never dominates a chunk
MAX_ITEM_CHARS = 400
MAX_IDS = 8

MAX_CITED = 5  # ids per item, as the prompts ask ("one to five")

_ITEM = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "maxLength": 600},  # bounded for grammar samplers; clipped to MAX_ITEM_CHARS later
        "ids": {"type": "array", "maxItems": 16, "items": {"type": ["string", "integer"]}},
    },
    "required": ["text", "ids"],
}
# what every reply is validated against: loose, so a server without a grammar that cites a ref it was not shown
# loses that id only (parse_summary), not the whole reply to a repair turn
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": "array", "maxItems": 12, "items": _ITEM} for name in SECTIONS},
    "required": list(SECTIONS),
}


def summary_schema(refs: Sequence[str]) -> dict[str, Any]:
    """The schema a request asks the server's grammar for: every id is one of the refs the request showed (an
    `enum`), so a constrained sampler can only cite messages that exist, and each section holds no more items than
    the shown messages can back (a disagreement needs two). Measured with SmolLM2-135M on real threads (README):
    with free-form ids it cited numbers it made up and grounding dropped every point."""
    n = max(len(refs), 1)
    caps = {name: min(LIMITS[name], n // 2 if name == "disagreements" else n) for name in SECTIONS}
    ids = {"type": "string", "enum": list(refs)} if refs else {"type": "string"}
    item = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 300},
            "ids": {"type": "array", "minItems": 1, "maxItems": MAX_CITED, "items": ids},
        },
        "required": ["text", "ids"],
    }
    return {  # the item is defined once: the enum of refs costs prompt tokens (the client shows the schema)
        "type": "object",
        "properties": {
            name: {"type": "array", "maxItems": caps[name], "items": {"$ref": "#/$defs/item"}} for name in SECTIONS
        },
        "required": list(SECTIONS),
        "$defs": {"item": item},
    }


_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"</?\s*(posts|partials|summary)\b", re.IGNORECASE)


def one_line(text: str) -> str:
    """One line; the delimiters of our prompts cannot be closed from inside a message."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹"), _SPACE.sub(" ", text).strip())


class Refs:
    """Short per-request references ([1], [2], ...) standing for message ids in a prompt: far fewer tokens than
    18-digit snowflakes, and models copy them back reliably. Replies cite refs; `resolve` maps them back."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = {}
        self._ids: dict[str, str] = {}

    def ref(self, post_id: str) -> str:
        if post_id not in self._refs:
            ref = str(len(self._refs) + 1)
            self._refs[post_id], self._ids[ref] = ref, post_id
        return self._refs[post_id]

    def known(self, post_id: str) -> str | None:
        return self._refs.get(post_id)

    def resolve(self, ref: str) -> str | None:
        return self._ids.get(ref)

    def shown(self) -> list[str]:
        """Every ref handed out so far, in order: what a reply may cite."""
        return list(self._ids)


class WideRefs(Refs):
    """Every id as a 4-digit ref: sizes measured with it are upper bounds for any real request."""

    def ref(self, post_id: str) -> str:
        return "9999"

    def known(self, post_id: str) -> str | None:
        return "9999"


def format_post(post: Post, ref: str, parent: str | None, max_chars: int = MAX_POST_CHARS) -> str:
    """`[ref] author (MM-DD HH:MM) ↪parent: text`, on one line."""
    when = post.created_at.strftime("%m-%d %H:%M")
    reply = f" ↪{parent}" if parent else ""
    author = one_line(post.author_name)[:40] or "unknown"
    return f"[{ref}] {author} ({when}){reply}: {clip(one_line(post.text), max_chars)}"


def posts_block(posts: Sequence[Post], max_chars: Sequence[int], refs: Refs) -> str:
    """Posts as delimited prompt data; a reply to a message outside the block points to `earlier`."""
    lines = []
    for post, chars in zip(posts, max_chars, strict=True):
        parent = (refs.known(post.parent_id) or "earlier") if post.parent_id else None
        lines.append(format_post(post, refs.ref(post.post_id), parent, chars))
    return "<posts>\n" + "\n".join(lines) + "\n</posts>"


def content_hash(posts: Iterable[Post]) -> str:
    """Hash of (id, text) of the covered posts: any edit or deletion inside the range changes it."""
    h = hashlib.sha256()
    for p in posts:
        h.update(p.post_id.encode())
        h.update(b"\x1f")
        h.update(p.text.encode())
        h.update(b"\x1e")
    return h.hexdigest()


def render_items(summary: Summary, refs: Refs) -> str:
    """Compact form fed back to the model (reduce/update): `section:` then `- text [ref, ref]` lines."""
    lines: list[str] = []
    for name in SECTIONS:
        items = getattr(summary, name)
        if items:
            lines.append(f"{name}:")
            lines.extend(f"- {one_line(i.text)} [{', '.join(map(refs.ref, i.source_ids))}]" for i in items)
    return "\n".join(lines) or "(nothing)"


def _normalize_id(raw: Any) -> str:
    return str(raw).strip().strip("[]#").strip()


def _items(raw: Any, refs: Refs, limit: int) -> tuple[SummaryPoint, ...]:
    out: list[SummaryPoint] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            continue
        raw_ids = item.get("ids")
        ids: list[Any] = raw_ids if isinstance(raw_ids, list) else []
        # the model invents refs: keep only those that were in what it was shown
        real = (refs.resolve(_normalize_id(i)) for i in ids)
        kept = tuple(dict.fromkeys(i for i in real if i))[:MAX_IDS]
        # model text: no link it wrote is ever shown (docs/design.md, safety rules); jump links come from the ids
        out.append(SummaryPoint(clip(quote(item["text"]), MAX_ITEM_CHARS), kept))
        if len(out) >= limit:
            break
    return tuple(out)


def parse_summary(data: Any, *, refs: Refs, thread_id: str) -> Summary | None:
    """The model's JSON -> Summary; None when it is not the object we asked for."""
    if not isinstance(data, dict) or not any(isinstance(data.get(n), list) for n in SECTIONS):
        return None
    return _build(thread_id, "llm", {n: _items(data.get(n), refs, LIMITS[n]) for n in SECTIONS})


def _build(thread_id: str, engine: Engine, sections: dict[str, tuple[SummaryPoint, ...]]) -> Summary:
    return Summary(
        thread_id=thread_id,
        points=sections["points"],
        disagreements=sections["disagreements"],
        open_questions=sections["open_questions"],
        framing=sections["framing"],
        engine=engine,
    )


def merge(parts: Sequence[Summary], *, thread_id: str) -> Summary:
    """Mechanical merge (no model): concatenate sections in order, drop exact repeats, keep the caps."""
    sections: dict[str, tuple[SummaryPoint, ...]] = {}
    for name in SECTIONS:
        seen: dict[str, SummaryPoint] = {}
        for part in parts:
            for item in getattr(part, name):
                seen.setdefault(item.text.casefold(), item)
        sections[name] = tuple(seen.values())[: LIMITS[name]]
    return _build(thread_id, parts[0].engine if parts else "llm", sections)


def fit_items(summary: Summary, max_tokens: int, count: Callable[[str], int]) -> Summary:
    """Drop the least important items (the end of the longest section) until the compact form fits."""
    while count(render_items(summary, WideRefs())) > max_tokens:
        longest = max(SECTIONS, key=lambda n: len(getattr(summary, n)))
        items = getattr(summary, longest)
        if not items:
            break
        summary = replace(summary, **{longest: items[:-1]})
    return summary


def render_summary_text(summary: Summary, *, link: Callable[[str], str] | None = None) -> str:
    """Plain text (Discord markdown) with each item's sources; `link` turns an id into a jump link."""
    cite = link or (lambda i: i)
    how = {"llm": "model", "extractive": "extractive, no model"}.get(summary.engine, summary.engine)
    head = f"**Thread summary** ({summary.message_count} message{'' if summary.message_count == 1 else 's'}, {how})"
    lines = [head + (" (partial)" if summary.partial else "")]
    for name in SECTIONS:
        items = getattr(summary, name)
        if items:
            lines.append(f"__{TITLES[name]}__")
            for item in items:
                refs = f" [{', '.join(cite(i) for i in item.source_ids)}]" if item.source_ids else ""
                lines.append(f"• {item.text}{refs}")
    if len(lines) == 1:
        lines.append("Nothing to summarize.")
    if summary.note:
        lines.append(f"_{summary.note}_")
    return neutralize_mentions("\n".join(lines))
