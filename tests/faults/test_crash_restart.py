"""kill -9 between deciding to reply and recording the reply, then a restart: no duplicate reply, no lost post.

A subprocess runs the real core (build_resources, real Store file, offline engines) and is killed with SIGKILL at
a controlled point: after the claim was committed but before sending ("claimed"), or after the platform accepted
the reply but before Pipeline.sent() recorded it ("sent"). The restarted bot (this process, same database file)
sees every acknowledged post, keeps the claim (so the thread's cooldown still counts it), ignores the re-delivered
events, and never sends a second reply: at most one reply exists, whichever point the crash hit. It then answers a
new framing post in another thread as usual.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import build_resources
from tests.faults.crash_bot import ORDINARY_POSTS, send, settings_for
from tests.faults.kit import FRAMING, ORDINARY, REPLY, post

ROOT = Path(__file__).resolve().parents[2]


def run_until(db: Path, outbox: Path, stop_at: str, timeout: float = 60.0) -> list[str]:
    """Start the helper, read its lines until the stop marker, kill -9 it there; returns every line it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.crash_bot", str(db), str(outbox), stop_at],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    marker = "sent frame" if stop_at == "sent" else "claimed frame"
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        with selectors.DefaultSelector() as sel:
            assert proc.stdout is not None
            sel.register(proc.stdout, selectors.EVENT_READ)
            while marker not in lines:
                if time.monotonic() > deadline or not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no {marker!r} within {timeout} s; got {lines[-3:]}")
                line = proc.stdout.readline()
                if not line:
                    raise AssertionError(f"the helper exited early: {proc.stderr.read() if proc.stderr else ''}")
                lines.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return lines


def outbox_lines(outbox: Path) -> list[dict]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("stop_at", ["claimed", "sent"])
async def test_kill_9_between_deciding_and_recording_never_doubles_a_reply(tmp_path, stop_at: str):
    db, outbox = tmp_path / "data" / "bot.sqlite3", tmp_path / "outbox.jsonl"
    lines = await asyncio.to_thread(run_until, db, outbox, stop_at)
    acked = [line.split()[1] for line in lines if line.startswith("stored ")]
    assert len(acked) == ORDINARY_POSTS
    sent_before_crash = len(outbox_lines(outbox))
    assert sent_before_crash == (1 if stop_at == "sent" else 0)

    async with build_resources(settings_for(str(db))) as res:
        store, pipeline = res.store, res.pipeline
        assert await store.integrity_check() == "ok"
        for post_id in acked:  # every acknowledged post survived the kill
            assert (await store.get_post("discord", post_id)).text.startswith(ORDINARY)
        assert (await store.get_post("discord", "frame")).text == FRAMING
        claim = await store.get_reply("discord", "frame")
        assert claim is not None and claim["status"] == "pending"  # the claim stands, sent or not

        # the platform re-delivers everything after the restart: nothing is answered again
        for post_id in [*acked, "frame"]:
            text = FRAMING if post_id == "frame" else f"{ORDINARY} ({post_id[1:]})"
            decision = await pipeline.handle(post(post_id, text, thread="t-race"), policy=REPLY)
            assert decision.action == "ignore" and decision.reason == "already seen"
        # a new framing post in the same thread is held back by the standing claim's cooldown, not answered
        same_thread = await pipeline.handle(post("frame-2", FRAMING + " Again.", thread="t-race"), policy=REPLY)
        assert (same_thread.action, same_thread.reason) == ("queue", "thread cooldown")
        # and the bot works as before elsewhere
        elsewhere = await pipeline.handle(post("frame-3", FRAMING, thread="t-other"), policy=REPLY)
        assert elsewhere.action == "reply" and elsewhere.counterpoint is not None
        send(str(outbox), "frame-3", elsewhere.counterpoint.text)
        await pipeline.sent(elsewhere, "reply-3")
        assert (await store.get_reply("discord", "frame-3"))["status"] == "sent"

    sent = [row["post_id"] for row in outbox_lines(outbox)]
    assert sent.count("frame") == sent_before_crash <= 1  # never twice
    assert sent.count("frame-3") == 1 and "frame-2" not in sent
