"""Subprocess helper for the store's crash and cross-process tests (not a test module).

python tests/store_crash_writer.py write DB   insert posts forever; print each id only after its COMMIT returned
python tests/store_crash_writer.py claim DB POST_ID   wait for a start file, claim once, print "won" or "lost"
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.models import Post
from bot.store import Store

BODY = "The US and China are racing for AI supremacy, and only one can win. " * 20  # ~1.4 kB: several pages


async def write_forever(db: str) -> None:
    async with Store.open(db) as store:
        i = 0
        while True:
            post_id = f"w{i}"
            post = Post("discord", post_id, f"t{i % 7}", f"u{i % 13}", "writer", f"{post_id} {BODY}", datetime.now(UTC))
            await store.add_post(post)
            await store.claim_reply("discord", post_id, thread_id=post.thread_id)
            print(post_id, flush=True)  # acknowledged: both transactions committed
            i += 1


async def claim_once(db: str, post_id: str, start_file: str) -> None:
    async with Store.open(db, busy_timeout_ms=20000) as store:
        deadline = time.monotonic() + 30
        while not Path(start_file).exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        won = await store.claim_reply("discord", post_id, thread_id="t1")
        print("won" if won else "lost", flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "write":
        asyncio.run(write_forever(argv[1]))
    elif argv[0] == "claim":
        asyncio.run(claim_once(argv[1], argv[2], argv[3]))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
