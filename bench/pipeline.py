"""Pipeline bench: what the bot itself costs per post, apart from the model.

    .venv/bin/python bench/pipeline.py [--posts 5000] [--stored 100000] [--json]

Measures, on a temp database with the real core (build_resources):
- overhead per post (Pipeline.handle: store, prefilter, verdict, decision; p50/p99), once with the offline lexical
  engine and once with a zero-latency FakeLLM, where the time spent inside model calls is subtracted;
- ingest rate through the pipeline (posts/s, one at a time);
- memory with 100,000 posts stored (RSS, database size, Python heap retained per 1,000 more posts);
- prefilter throughput (bench/framing.py's corpus and timer);
- model calls per 1,000 ordinary posts, counted at the FakeLLM, against the naive one-call-per-post design;
- summary cost (bench/summarize.py's run, smaller than its default: 1,000 messages, 50 ms per call).

Prints a table, then one JSON line. One process; the figures are for this machine (see bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ and the test fakes

from bench.framing import DEFAULT_DATA, corpus, rate, synthetic
from bench.summarize import run as summary_run
from bot.app import build_resources
from bot.framing.lexical import prefilter
from bot.models import Post
from bot.settings import Settings, load_settings
from bot.store import Store
from tests.fakes.fake_llm import FakeLLM, unused_base_url

FRAMINGS = (
    "The US must win the AI race against China before Beijing does, whoever wins controls the future.",
    "China is going to beat us in the AI arms race unless we stop regulating.",
    "中美AI竞赛，美国必须赢，否则中国会统治世界。",
)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def ordinary(n: int) -> list[str]:
    """Real chat from the dev set (if present) plus synthetic chat, as bench/framing.py builds it."""
    return corpus(DEFAULT_DATA, n) or synthetic(n)


def stream(n: int, *, framing_every: int = 50, seed: int = 5) -> list[Post]:
    rng = random.Random(seed)
    texts = ordinary(n)
    posts = []
    for i in range(n):
        text = FRAMINGS[(i // framing_every) % len(FRAMINGS)] if i % framing_every == framing_every - 1 else texts[i]
        when = T0 + timedelta(seconds=2 * i)
        posts.append(Post("discord", f"p{i}", f"t{rng.randrange(40)}", f"u{rng.randrange(500)}", "user",
                          f"{text} ({i})", when, "c1", "g1"))  # fmt: skip
    return posts


def settings_for(db: Path, base_url: str | None, engine: str) -> Settings:
    return load_settings(
        None,
        llm={"base_url": base_url or unused_base_url(), "model": "fake-model", "deadline": 30.0, "max_retries": 0},
        storage={"path": str(db), "retention_days": 0},
        framing={"engine": engine},
        discord={"mode": "reply"},
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _judge(body: dict[str, Any]) -> Any:
    if str(body["messages"][0]["content"]).startswith("You write short"):
        return {"text": "Fair point, but open and closed models differ more than countries do [1].", "source_ids": []}
    return {"label": "mentions", "confidence": 0.8, "quote": "", "reason": "bench"}


def _timed_model(llm: Any, spent: list[float]) -> None:
    """Wrap the client's chat_json so each post's model time can be subtracted (instance attribute)."""
    inner = llm.chat_json

    async def chat_json(*args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return await inner(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - started

    llm.chat_json = chat_json


async def overhead(posts: list[Post], engine: str, base_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with build_resources(settings_for(Path(tmp) / "b.sqlite3", base_url, engine)) as res:
            spent = [0.0]
            _timed_model(res.llm, spent)
            policy = await res.pipeline.policy("discord", "g1", "c1")
            for post in stream(200, seed=99):  # warm-up: cue tables, prepared statements, the first model call
                await res.pipeline.handle(replace(post, post_id=f"w{post.post_id}"), policy=policy)
            spent[0] = 0.0
            total, excl, model_posts, framing, chatter = [], [], [], [], []
            started = time.perf_counter()
            for post in posts:
                before, t0 = spent[0], time.perf_counter()
                await res.pipeline.handle(post, policy=policy)
                took = time.perf_counter() - t0
                total.append(took)
                excl.append(took - (spent[0] - before))
                if spent[0] > before:
                    model_posts.append(excl[-1])
                (framing if post.text.startswith(FRAMINGS) else chatter).append(excl[-1])
            wall = time.perf_counter() - started
    out = {
        "engine": engine, "posts": len(posts), "p50_ms": _ms(pct(excl, 0.5)), "p99_ms": _ms(pct(excl, 0.99)),
        "mean_ms": _ms(statistics.fmean(excl)), "posts_per_s": round(len(posts) / wall, 1),
        "with_model_time_p99_ms": _ms(pct(total, 0.99)), "posts_that_asked_the_model": len(model_posts),
    }  # fmt: skip
    out["ordinary_p99_ms"], out["framing_p50_ms"] = _ms(pct(chatter, 0.99)), _ms(pct(framing, 0.5))
    if model_posts:
        out["model_posts_p50_ms_excl_model"] = _ms(pct(model_posts, 0.5))
    return out


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS:")).split()[1]) / 1024


def files_size(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern))


async def memory_at(stored: int) -> dict[str, Any]:
    """RSS while filling the store to `stored` posts, the file size, and the Python heap 1,000 more posts keep."""
    text = "the new q4 quant of qwen runs fine on my 3090 at 8k context, thanks for the tip. " * 2
    marks: dict[str, float] = {"rss_mb_empty": round(rss_mb(), 1)}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.sqlite3"
        async with Store.open(db) as store:
            started = time.perf_counter()
            for i in range(stored):
                when = T0 + timedelta(seconds=i)
                await store.add_post(Post("discord", f"m{i}", f"t{i % 500}", f"u{i % 900}", "u", f"{i} {text}", when))
                if i + 1 in (stored // 10, stored):
                    marks[f"rss_mb_at_{i + 1}"] = round(rss_mb(), 1)
            ingest = stored / (time.perf_counter() - started)
        size = files_size(Path(tmp), "m.sqlite3*")
        async with build_resources(settings_for(db, None, "lexical")) as res:
            policy = await res.pipeline.policy("discord", "g1", "c1")
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            for post in stream(1000):
                await res.pipeline.handle(post, policy=policy)
            kept = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.stop()
    return {
        "stored_posts": stored, **marks, "db_mb": round(size / 2**20, 1), "store_add_post_per_s": round(ingest),
        "python_heap_kept_per_1000_posts_kb": round(kept / 1024, 1),
    }  # fmt: skip


async def calls_per_1000(fake: FakeLLM) -> dict[str, Any]:
    texts = ordinary(1000)
    posts = [Post("discord", f"o{i}", f"t{i % 40}", f"u{i}", "u", t, T0 + timedelta(seconds=i), "c1", "g1")
             for i, t in enumerate(texts)]  # fmt: skip
    before = len(fake.requests)
    with tempfile.TemporaryDirectory() as tmp:
        async with build_resources(settings_for(Path(tmp) / "c.sqlite3", fake.base_url, "auto")) as res:
            policy = await res.pipeline.policy("discord", "g1", "c1")
            for post in posts:
                await res.pipeline.handle(post, policy=policy)
    calls = len(fake.requests) - before
    return {"ordinary_posts": len(posts), "model_calls": calls, "naive_calls": len(posts),
            "prefilter_passes": sum(prefilter(t).passed for t in texts)}  # fmt: skip


def prefilter_throughput(runs: int) -> dict[str, Any]:
    texts = ordinary(20_000)
    fn: Callable[[str], Any] = prefilter
    fn(texts[0])  # compile the cue tables outside the timed runs
    return {"posts": len(texts), "posts_per_s": round(rate(fn, texts, runs))}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    posts = stream(args.posts)
    result: dict[str, Any] = {"bench": "pipeline"}
    result["overhead_lexical"] = await overhead(posts, "lexical", None)
    async with FakeLLM(responder=_judge) as fake:
        result["overhead_fake_model"] = await overhead(posts, "auto", fake.base_url)
        result["model_calls"] = await calls_per_1000(fake)
    result["memory"] = await memory_at(args.stored)
    result["prefilter"] = prefilter_throughput(args.runs)
    full = await summary_run(args.summary_messages, 50, 0.05, 4, "chat")
    result["summary"] = {k: full[k] for k in ("latency_s", "concurrency", "chunk_tokens")} | {
        "full": {k: full["full"][k] for k in ("messages", "calls", "wall_s", "ideal_s", "prompt_tokens_server")},
        "incremental": {k: full["incremental"][k] for k in ("messages", "calls", "wall_s", "prompt_tokens_server")},
    }
    return result


def table(r: dict[str, Any]) -> str:
    lex, fake, mem, calls, summ = (r["overhead_lexical"], r["overhead_fake_model"], r["memory"], r["model_calls"],
                                   r["summary"])  # fmt: skip
    rows = [
        ("overhead per post, lexical engine (p50 / p99)", f"{lex['p50_ms']} / {lex['p99_ms']} ms"),
        ("overhead per post, zero-latency model, model time excluded (p50 / p99)",
         f"{fake['p50_ms']} / {fake['p99_ms']} ms"),
        ("pipeline ingest, one post at a time", f"{lex['posts_per_s']:,} posts/s"),
        ("store ingest (add_post)", f"{mem['store_add_post_per_s']:,} posts/s"),
        (f"memory at {mem['stored_posts']:,} stored posts (RSS; empty store)",
         f"{mem['rss_mb_at_' + str(mem['stored_posts'])]} MB; {mem['rss_mb_empty']} MB"),
        ("database file at that size", f"{mem['db_mb']} MB"),
        ("Python heap kept per 1,000 more posts", f"{mem['python_heap_kept_per_1000_posts_kb']} kB"),
        ("prefilter throughput (one core)", f"{r['prefilter']['posts_per_s']:,} posts/s"),
        ("model calls per 1,000 ordinary posts (naive design)", f"{calls['model_calls']} ({calls['naive_calls']})"),
        (f"summary of {summ['full']['messages']:,} messages (calls; wall at {summ['latency_s']} s/call)",
         f"{summ['full']['calls']}; {summ['full']['wall_s']} s"),
        ("summary update after 50 new messages (calls)", str(summ["incremental"]["calls"])),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=5000, help="posts for the overhead runs")
    ap.add_argument("--stored", type=int, default=100_000, help="posts stored for the memory figure")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of the prefilter (median)")
    ap.add_argument("--summary-messages", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args(argv)
    result = asyncio.run(run(args))
    if not args.json:
        print(table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
