"""Helpers for the summary tests and bench: settings, synthetic threads, and a FakeLLM responder that answers the
summary prompts with JSON built from the ids it was shown (plus one invented id the summarizer must drop)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Post
from bot.settings import Settings, SummarizeSettings
from tests.fakes.fake_llm import llm_settings

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
INVENTED = "99999"  # a ref no request shows: the summarizer must drop it
TOPICS = (
    "quantization to Q4 keeps most of the quality for chat",
    "a used 3090 with 24 GB of VRAM is the budget pick for local inference",
    "speculative decoding doubles tokens per second with a small draft model",
    "context length beyond 32k needs flash attention or the KV cache explodes",
    "open-weight models from many countries build on each other's published papers",
)
POST_LINE = re.compile(r"^\[([^\]\s]+)\] ", re.MULTILINE)
MESSAGE_NUMBER = re.compile(r"^\[\S+\] .*?: message (\d+):", re.MULTILINE)
ITEM_IDS = re.compile(r"\[([^\[\]]+)\]$", re.MULTILINE)


def make_settings(base_url: str, *, concurrency: int = 2, chunk_tokens: int = 0, **llm: Any) -> Settings:
    # the client's own slots never become the bottleneck: the summarizer's semaphore is what is tested
    llm.setdefault("concurrency", 16)
    return Settings(
        llm=llm_settings(base_url, **llm),
        summarize=SummarizeSettings(concurrency=concurrency, chunk_tokens=chunk_tokens),
    )


def thread(n: int, *, start: int = 0, thread_id: str = "t1", platform: str = "discord", words: int = 12) -> list[Post]:
    posts = []
    for i in range(start, start + n):
        topic = TOPICS[i % len(TOPICS)]
        posts.append(
            Post(
                platform=platform,  # type: ignore[arg-type]
                post_id=str(100000 + i),
                thread_id=thread_id,
                author_id=f"u{i % 7}",
                author_name=f"user{i % 7}",
                text=f"message {i}: " + " ".join([topic] * max(1, words // 12)),
                created_at=T0 + timedelta(seconds=30 * i),
                channel_id="c1",
                guild_id="g1",
                parent_id=str(100000 + i - 1) if i % 3 == 1 else None,
            )
        )
    return posts


def user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def kind_of(body: dict[str, Any]) -> str:
    text = user_text(body)
    if "<summary>" in text:
        return "update"
    return "reduce" if "<partials>" in text else "map"


def shown_refs(body: dict[str, Any]) -> list[str]:
    """Refs the request showed the model: post lines in <posts>, bracketed refs at the end of summary items."""
    text = user_text(body)
    refs = POST_LINE.findall(text)
    for group in ITEM_IDS.findall(text):
        refs.extend(i.strip() for i in group.split(","))
    return refs


def post_ids_in_posts_block(body: dict[str, Any]) -> list[str]:
    """Real post ids of the messages in the request's <posts> block (from the "message N:" text of `thread`)."""
    text = user_text(body)
    if "<posts>" not in text:
        return []
    return [str(100000 + int(n)) for n in MESSAGE_NUMBER.findall(text.split("<posts>", 1)[1])]


SHOWN_TEXT = re.compile(r"^\[([^\]\s]+)\] [^\n]*?\)(?: ↪\S+)?: (.*)$|^- (.*) \[([^\[\]]+)\]$", re.MULTILINE)


def shown_texts(body: dict[str, Any]) -> dict[str, str]:
    """{ref: the words the request shows for it}: a post line's text, or a summary item citing that ref first."""
    found: dict[str, str] = {}
    for m in SHOWN_TEXT.finditer(user_text(body)):
        ref, text = (m.group(1), m.group(2)) if m.group(1) else (m.group(4).split(",")[0].strip(), m.group(3))
        found.setdefault(ref, text[:300])  # an item's text is at most 600 characters (SUMMARY_SCHEMA)
    return found


def summary_responder(body: dict[str, Any]) -> dict[str, Any]:
    """An honest model: every item restates words of the messages it cites (the summarizer drops anything else)."""
    ids = shown_refs(body) or ["none"]
    first, last = ids[0], ids[-1]
    texts = shown_texts(body)
    second = ids[1] if len(ids) > 1 else first
    return {
        "points": [
            {"text": texts.get(first, "nothing"), "ids": [first, last, INVENTED]},
            {"text": texts.get(second, "nothing"), "ids": ids[:2]},
        ],
        "disagreements": [{"text": texts.get(last, "nothing"), "ids": [last]}],
        "open_questions": [],
        "framing": [],
    }


def shows_message(body: dict[str, Any], n: int) -> bool:
    """True when any message of the request (the repair turn included) carries the post line of `message n`."""
    pattern = re.compile(rf"^\[\S+\] .*?: message {n}:", re.MULTILINE)
    return any(pattern.search(str(m.get("content", ""))) for m in body["messages"])
