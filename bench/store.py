"""Store micro-benchmark: writes, claims, reads and a privacy erase on a temp database.

    .venv/bin/python bench/store.py [--posts N] [--json]

Prints a table (and one JSON document with --json). Numbers depend on the disk; they are for spotting regressions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import Post
from bot.store import Store

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_post(i: int, threads: int) -> Post:
    text = f"post {i}: the AI race between the US and China is a story told too simply. " * 3
    return Post("discord", f"p{i}", f"t{i % threads}", f"u{i % 50}", f"user{i % 50}", text, T0 + timedelta(seconds=i))


async def timed(n: int, op: Callable[[int], Awaitable[object]], *, concurrent: bool = False) -> dict[str, float]:
    start = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(op(i) for i in range(n)))
    else:
        for i in range(n):
            await op(i)
    took = time.perf_counter() - start
    return {"n": n, "seconds": round(took, 4), "per_second": round(n / took, 1), "ms_each": round(1000 * took / n, 3)}


async def run(posts: int) -> dict[str, dict[str, float]]:
    threads = max(1, posts // 500)
    with tempfile.TemporaryDirectory() as tmp:
        async with Store.open(Path(tmp) / "bench.sqlite3") as store:
            out = {
                "add_post (sequential)": await timed(posts, lambda i: store.add_post(make_post(i, threads))),
                "add_post (100 tasks at once)": await timed(
                    100, lambda i: store.add_post(make_post(posts + i, threads)), concurrent=True
                ),
                "claim_reply (sequential)": await timed(
                    posts, lambda i: store.claim_reply("discord", f"p{i}", thread_id="t0")
                ),
                "get_post": await timed(posts, lambda i: store.get_post("discord", f"p{i}")),
                "thread_posts (whole thread)": await timed(20, lambda i: store.thread_posts("discord", "t0")),
                "stats": await timed(20, lambda i: store.stats()),
                "delete_post (+ checkpoint)": await timed(200, lambda i: store.delete_post("discord", f"p{i * 7}")),
                "forget_author (+ checkpoint)": await timed(5, lambda i: store.forget_author("discord", f"u{i}")),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.posts))
    print(f"{'operation':32} {'n':>6} {'seconds':>9} {'per s':>10} {'ms each':>9}")
    for name, r in results.items():
        print(f"{name:32} {r['n']:>6} {r['seconds']:>9} {r['per_second']:>10} {r['ms_each']:>9}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
