"""Summary bench: a long synthetic thread through the real LLMClient against the FakeLLM, which waits a fixed
latency before each reply. Measures model calls, wall time against the ideal (calls / concurrency x latency),
tokens sent, and the cost of an incremental update after new messages (summary cached in a temp Store).

    .venv/bin/python bench/summarize.py [--messages 5000] [--new 100] [--latency 0.25] [--concurrency 4]
                                        [--style chat|long] [--json]

--style chat (default): Discord-like messages (19-digit snowflake ids; 30% one-liners, 55% a sentence or two,
15% a paragraph; about 90 characters on average). --style long: every message about 190 characters.

Prints a table, then one JSON line. Targets (issue 5): wall <= 1.3 x ideal at concurrency 4; the incremental
update after 100 new messages makes at most 2 model calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test fakes live in tests/

from bot.llm.client import LLMClient
from bot.settings import LLMSettings, Settings, SummarizeSettings
from bot.store import Store
from bot.summary.summarizer import Summarizer
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.summary_kit import kind_of, summary_responder, thread

SHORT = ("agreed", "lol same", "+1, this", "source?", "nice", "hm, not sure")
SNOWFLAKE0 = 1_349_000_000_000_000_000


def chat_thread(n: int, start: int = 0) -> list:
    """Deterministic Discord-like mix of message lengths with real-sized ids."""
    posts = []
    for p in thread(n, start=start, thread_id="bench", words=12):
        i = int(p.post_id) - 100000
        kind = (i * 7) % 20  # 0-5 short, 6-16 medium, 17-19 long
        text = SHORT[i % len(SHORT)] if kind < 6 else p.text if kind < 17 else f"{p.text}. " * 3
        ids = {"post_id": str(SNOWFLAKE0 + i * 4_194_304)}
        if p.parent_id:
            ids["parent_id"] = str(SNOWFLAKE0 + (i - 1) * 4_194_304)
        posts.append(replace(p, text=f"message {i}: {text}", **ids))
    return posts


def settings_for(base_url: str, concurrency: int) -> Settings:
    llm = LLMSettings(base_url=base_url, model="fake-model", concurrency=concurrency, deadline=120, read_timeout=60)
    return Settings(llm=llm, summarize=SummarizeSettings(concurrency=concurrency))


async def measure(fake: FakeLLM, summarizer: Summarizer, llm: LLMClient, posts: list, latency: float) -> dict:
    before_requests, before_tokens = len(fake.requests), llm.usage_totals.prompt_tokens
    before_estimate = summarizer.tokens_sent
    started = time.perf_counter()
    summary = await summarizer.summarize(posts, thread_id="bench")
    wall = time.perf_counter() - started
    requests = fake.requests[before_requests:]
    calls = len(requests)
    ideal = calls / summarizer.config.concurrency * latency
    kinds = {k: sum(kind_of(b) == k for b in requests) for k in ("map", "reduce", "update")}
    return {
        "messages": len(posts),
        "calls": calls,
        **kinds,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "wall_over_ideal": round(wall / ideal, 3) if ideal else None,
        "prompt_tokens_server": llm.usage_totals.prompt_tokens - before_tokens,
        "prompt_tokens_estimated": summarizer.tokens_sent - before_estimate,
        "engine": summary.engine,
        "partial": summary.partial,
    }


async def run(messages: int, new: int, latency: float, concurrency: int, style: str) -> dict[str, Any]:
    if style == "chat":
        posts, more = chat_thread(messages), chat_thread(new, start=messages)
    else:
        posts = thread(messages, thread_id="bench", words=24)
        more = thread(new, start=messages, thread_id="bench", words=24)
    mean_chars = sum(len(p.text) for p in posts) / max(1, len(posts))
    async with FakeLLM(responder=summary_responder) as fake:
        fake.delay = latency
        settings = settings_for(fake.base_url, concurrency)
        with tempfile.TemporaryDirectory() as tmp:
            async with Store.open(Path(tmp) / "bench.sqlite3") as store, LLMClient(settings.llm) as llm:
                summarizer = Summarizer.from_settings(settings, llm, store)
                full = await measure(fake, summarizer, llm, posts, latency)
                incremental = await measure(fake, summarizer, llm, posts + more, latency)
                budget = summarizer.budget()
    return {
        "bench": "summarize",
        "style": style,
        "mean_message_chars": round(mean_chars, 1),
        "latency_s": latency,
        "concurrency": concurrency,
        "context_tokens": settings.llm.context_tokens,
        "chunk_tokens": budget.chunk,
        "full": full,
        "incremental": incremental,
        "targets": {
            "wall_within_1.3x_ideal": full["wall_over_ideal"] is not None and full["wall_over_ideal"] <= 1.3,
            "incremental_at_most_2_calls": incremental["calls"] <= 2,
        },
    }


def table(result: dict[str, Any]) -> str:
    rows = [("", "full thread", "incremental")]
    for key in ("messages", "calls", "map", "reduce", "update", "wall_s", "ideal_s", "wall_over_ideal",
                "prompt_tokens_server", "prompt_tokens_estimated", "engine"):  # fmt: skip
        rows.append((key, str(result["full"][key]), str(result["incremental"][key])))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    head = (
        f"{result['style']} thread (mean {result['mean_message_chars']} chars/message), "
        f"latency {result['latency_s']} s/call, concurrency {result['concurrency']}, "
        f"context {result['context_tokens']} tokens, chunk {result['chunk_tokens']} tokens"
    )
    return "\n".join([head, *lines, f"targets: {result['targets']}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--style", choices=("chat", "long"), default="chat")
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    result = asyncio.run(run(args.messages, args.new, args.latency, args.concurrency, args.style))
    if not args.json:
        print(table(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
