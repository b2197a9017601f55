"""Exactly-once under concurrency (tasks, connections, processes), across restarts, and after kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.store import Store
from tests.fakes.store_kit import (  # noqa: F401 (fixtures: `store` runs on both backends)
    backend_fixture,
    clock_fixture,
    db_path,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    store_fixture,
)

ROOT = Path(__file__).resolve().parent.parent
HELPER = ROOT / "tests" / "store_crash_writer.py"


def helper_cmd(*args: str) -> list[str]:
    return [sys.executable, str(HELPER), *args]


def helper_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


async def test_many_tasks_claim_same_post_exactly_one_wins(store):
    await store.add_post(post("p1"))
    results = await asyncio.wait_for(
        asyncio.gather(*(store.claim_reply("discord", "p1", thread_id="t1") for _ in range(50))), 10
    )
    assert results.count(True) == 1


async def test_two_connections_claim_same_post_exactly_one_wins(tmp_path):
    path = db_path(tmp_path)
    async with Store.open(path) as a, Store.open(path) as b:
        calls = [s.claim_reply("discord", f"p{n}", thread_id="t1") for n in range(5) for s in (a, b, a, b)]
        results = await asyncio.wait_for(asyncio.gather(*calls), 20)
    for n in range(5):
        assert results[n * 4 : n * 4 + 4].count(True) == 1


async def test_pending_claim_survives_restart(tmp_path):
    path = db_path(tmp_path)
    async with Store.open(path) as store:
        assert await store.claim_reply("discord", "p1", thread_id="t1") is True
        # the process dies here, between claim and send: we cannot know whether the message went out
    async with Store.open(path) as store:
        assert await store.claim_reply("discord", "p1", thread_id="t1") is False  # better silent than double
        row = await store.get_reply("discord", "p1")
        assert row is not None and row["status"] == "pending"
        await store.confirm_reply("discord", "p1", reply_id="m1", text="sent")
    async with Store.open(path) as store:
        assert await store.claim_reply("discord", "p1", thread_id="t1") is False
        assert (await store.get_reply("discord", "p1"))["status"] == "sent"


async def test_review_decide_race_one_moderator_wins(tmp_path):
    path = db_path(tmp_path)
    async with Store.open(path) as a, Store.open(path) as b:
        rid = await a.enqueue_review("reddit", "p1", payload={"draft": "x"})
        calls = [s.decide_review(rid, status="approved", moderator=f"mod{i}") for i, s in enumerate([a, b] * 10)]
        results = await asyncio.wait_for(asyncio.gather(*calls), 20)
        assert results.count(True) == 1
        winner = f"mod{results.index(True)}"
        review = await b.get_review(rid)
        assert review is not None and review.moderator == winner and review.status == "approved"


async def test_reads_see_own_writes_while_others_write(store):
    async def writer_then_reader(n: int) -> bool:
        await store.add_post(post(f"p{n}", thread=f"t{n % 3}"))
        got = await store.get_post("discord", f"p{n}")
        ids = {p.post_id for p in await store.thread_posts("discord", f"t{n % 3}")}
        return got is not None and f"p{n}" in ids

    assert all(await asyncio.wait_for(asyncio.gather(*(writer_then_reader(n) for n in range(60))), 20))
    assert (await store.stats())["posts"] == 60


async def test_cancelled_write_rolls_back_and_frees_the_lock(store):
    entered = asyncio.Event()

    async def slow_write() -> None:
        async with store._write() as db:
            await db.execute("INSERT INTO checkpoints VALUES ('half', 'written', 'now')")
            entered.set()
            await asyncio.sleep(30)  # stands for a bug: awaiting something slow inside a transaction

    task = asyncio.create_task(slow_write())
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(store.set_checkpoint("after", "ok"), 5)
    assert await store.get_checkpoint("half") is None
    assert await store.get_checkpoint("after") == "ok"


@pytest.mark.slow
def test_processes_claim_same_post_exactly_one_wins(tmp_path):
    path, start = db_path(tmp_path), tmp_path / "go"
    procs = [
        subprocess.Popen(
            helper_cmd("claim", str(path), "p1", str(start)), stdout=subprocess.PIPE, env=helper_env(), text=True
        )
        for _ in range(4)
    ]
    time.sleep(1.0)  # let them import and open; each waits for the start file
    start.write_text("go")
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outputs) == ["lost", "lost", "lost", "won"]


def write_then_kill(path: Path, acks: int) -> list[str]:
    """Run the writer until it acknowledged `acks` posts, kill -9 it, return every id it acknowledged."""
    proc = subprocess.Popen(helper_cmd("write", str(path)), stdout=subprocess.PIPE, env=helper_env(), text=True)
    acked: list[str] = []
    reader = threading.Thread(target=lambda: acked.extend(line.strip() for line in proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while len(acked) < acks and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the writer died on its own"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    reader.join(timeout=10)  # every line it printed before dying was acknowledged
    assert not reader.is_alive()
    proc.stdout.close()
    assert len(acked) >= acks
    return acked


@pytest.mark.slow
def test_kill_9_mid_write_loses_no_acknowledged_post(tmp_path):
    path = db_path(tmp_path)
    acked = write_then_kill(path, 1000)
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in con.execute("SELECT post_id FROM posts")}
        claimed = {r[0] for r in con.execute("SELECT post_id FROM replies")}
    finally:
        con.close()
    missing = [i for i in acked if i not in stored or i not in claimed]
    assert missing == []
    assert len(stored) - len(acked) <= 1  # at most the one in flight


@pytest.mark.slow
async def test_store_reopens_after_kill_9(tmp_path):
    path = db_path(tmp_path)
    acked = await asyncio.to_thread(write_then_kill, path, 50)
    async with Store.open(path) as store:
        assert await store.integrity_check() == "ok"
        assert await store.get_post("discord", acked[-1]) is not None
        assert await store.claim_reply("discord", acked[-1], thread_id="t0") is False
        assert await store.add_post(post("fresh")) is True
