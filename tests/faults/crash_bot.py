"""Subprocess helper for test_crash_restart.py (not a test module): the bot's core handling posts against a real
database file, stopping forever at a chosen point so the test can kill -9 it there.

    python -m tests.faults.crash_bot DB OUTBOX STOP_AT      STOP_AT: claimed | sent

It stores 40 ordinary posts (printing "stored <id>" after each handle() returned), then handles one framing post:
"claimed frame" once the pipeline decided to reply (the claim is committed); for STOP_AT=sent it then "sends" the
reply (one JSON line appended to OUTBOX and fsynced: the platform has it) and prints "sent frame". Either way it
then blocks before Pipeline.sent() records the reply, and waits to be killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.app import build_resources
from tests.faults.kit import FRAMING, ORDINARY, REPLY, core_settings, post

ORDINARY_POSTS = 40


def settings_for(db: str):  # type: ignore[no-untyped-def]
    return core_settings(Path(db).parent, storage={"path": db}, framing={"engine": "lexical"})


def send(outbox: str, post_id: str, text: str) -> None:
    with open(outbox, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"post_id": post_id, "text": text}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


async def main(db: str, outbox: str, stop_at: str) -> None:
    async with build_resources(settings_for(db)) as res:
        for i in range(ORDINARY_POSTS):
            await res.pipeline.handle(post(f"o{i}", f"{ORDINARY} ({i})", thread="t-chat"), policy=REPLY)
            print(f"stored o{i}", flush=True)
        decision = await res.pipeline.handle(post("frame", FRAMING, thread="t-race"), policy=REPLY)
        assert decision.action == "reply" and decision.counterpoint is not None, decision
        print("claimed frame", flush=True)
        if stop_at == "sent":
            send(outbox, "frame", decision.counterpoint.text)
            print("sent frame", flush=True)
        await asyncio.sleep(3600)  # killed here, before pipeline.sent() records the reply
        await res.pipeline.sent(decision, "never-reached")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
