"""The database fails: locked by someone else beyond busy_timeout, or the disk is full.

What must hold: the failure is a StoreError carrying one clear sentence (never a raw sqlite3 traceback), no
transaction is half applied, the file stays healthy, and the bot works again as soon as the cause is gone. At the
Discord door the person sees one honest sentence instead of an error dump.

Disk full is simulated with `PRAGMA max_page_count` on the writer connection (SQLite then reports SQLITE_FULL,
exactly as for a full disk); a tiny filesystem is not available on CI machines.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.app import build_resources
from bot.errors import StoreError
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    ORDINARY,
    bot_with,
    fake_discord_fixture,
    judged,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.faults.kit import FRAMING, REPLY, core_settings, discord_section, post

BUSY_MS = 300


@contextmanager
def write_lock(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Another process holds the database's write lock (BEGIN IMMEDIATE) until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_lock_beyond_busy_timeout_is_a_clear_error_and_leaves_nothing_behind(tmp_path):
    settings = core_settings(tmp_path, storage={"busy_timeout_ms": BUSY_MS}, framing={"engine": "lexical"})
    async with build_resources(settings) as res:
        with write_lock(settings.storage.path):
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                await res.pipeline.handle(post("1"), policy=REPLY)
            waited = time.monotonic() - started
        assert str(caught.value) == (
            f"The database {settings.storage.path} is locked by another process or connection (waited and gave up)."
        )
        assert BUSY_MS / 1000 * 0.8 <= waited < 5  # waited for the lock, then gave up
        assert await res.store.get_post("discord", "1") is None  # the failed write left nothing
        assert await res.store.get_reply("discord", "1") is None
        # the lock is gone: the same post (re-delivered) goes through completely
        decision = await res.pipeline.handle(post("1"), policy=REPLY)
        assert decision.action == "reply" and decision.counterpoint is not None
        assert await res.store.integrity_check() == "ok"


async def test_a_lock_taken_mid_handling_fails_that_step_only(tmp_path):
    """The lock arrives after the post was stored (while the detector works): the verdict write fails with the
    sentence; the stored post is whole, no verdict or claim is half written, and the cooldown is not consumed."""
    settings = core_settings(tmp_path, storage={"busy_timeout_ms": BUSY_MS}, framing={"engine": "lexical"})
    async with build_resources(settings) as res:
        held: list[sqlite3.Connection] = []
        detect = res.detector.detect

        async def detect_then_lock(text: str, *, parent: str | None = None):  # type: ignore[no-untyped-def]
            verdict = await detect(text, parent=parent)
            held.append(sqlite3.connect(settings.storage.path, isolation_level=None, timeout=0))
            held[0].execute("BEGIN IMMEDIATE")
            return verdict

        res.pipeline.detector = type("D", (), {"detect": staticmethod(detect_then_lock)})()
        try:
            with pytest.raises(StoreError, match="is locked by another process"):
                await res.pipeline.handle(post("1"), policy=REPLY)
        finally:
            held[0].execute("ROLLBACK")
            held[0].close()
        res.pipeline.detector = res.detector
        assert (await res.store.get_post("discord", "1")).text == FRAMING
        assert await res.store.get_verdict("discord", "1") is None
        assert await res.store.get_reply("discord", "1") is None
        assert await res.store.last_reply_at("discord", "t1") is None
        nxt = await res.pipeline.handle(post("2"), policy=REPLY)  # same thread: not held back by a ghost claim
        assert nxt.action == "reply"


async def fill_until_full(res, start: int) -> tuple[int, StoreError]:  # type: ignore[no-untyped-def]
    """Insert ~20 kB posts until the database refuses one; returns (the refused index, the error)."""
    for i in range(start, start + 500):
        try:
            await res.pipeline.handle(post(f"big{i}", f"{i} " + "long text about local models " * 700), policy=REPLY)
        except StoreError as exc:
            return i, exc
    raise AssertionError("the database never filled up")


async def test_a_full_disk_is_a_clear_error_nothing_half_written_and_recovers(tmp_path):
    settings = core_settings(tmp_path, framing={"engine": "lexical"})
    async with build_resources(settings) as res:
        for i in range(20):
            await res.pipeline.handle(post(f"p{i}", ORDINARY, thread=f"t{i}"), policy=REPLY)
        async with res.store._write() as db:  # the writer connection: max_page_count is per connection
            pages = next(iter(await db.execute_fetchall("PRAGMA page_count")))[0]
        await res.store._writer.execute(f"PRAGMA max_page_count = {pages + 40}")
        refused, error = await fill_until_full(res, 0)
        assert refused >= 1, "some big posts fit before the disk was full"
        assert str(error) == f"The disk holding the database {settings.storage.path} is full."
        assert await res.store.get_post("discord", f"big{refused}") is None  # all or nothing
        for i in range(refused):
            assert (await res.store.get_post("discord", f"big{i}")).text.startswith(f"{i} long text")
        assert all([await res.store.get_post("discord", f"p{i}") for i in range(20)])
        assert await res.store.integrity_check() == "ok"
        # reads keep working while full, and a framing post fails loudly rather than silently
        with pytest.raises(StoreError, match="is full"):
            await res.pipeline.handle(post("frame", FRAMING + " " + "x" * 30000), policy=REPLY)
        # space comes back (an operator freed the disk): the refused post can be stored again, whole
        await res.store._writer.execute("PRAGMA max_page_count = 1073741823")
        again = await res.pipeline.handle(post(f"big{refused}", f"{refused} again"), policy=REPLY)
        assert again.action == "ignore" and await res.store.get_post("discord", f"big{refused}") is not None


async def test_discord_users_get_one_sentence_while_the_database_is_locked(tmp_path, fake: FakeDiscord):
    """A slash command during the lock answers "database not available" (ephemeral); a message during the lock
    gets no reply and no error in the channel; after the lock the bot answers again."""
    settings = core_settings(
        tmp_path, storage={"busy_timeout_ms": BUSY_MS}, framing={"engine": "lexical"}, discord=discord_section(fake)
    )
    async with bot_with(settings) as bot:
        with write_lock(settings.storage.path):
            iid = await fake.slash("optout", user=fake.bob)
            answer = await fake.wait_for(lambda: fake.callback(iid), what="the /optout answer")
            lost = await fake.user_message(fake.general, FRAMING)
            await asyncio.sleep(BUSY_MS / 1000 + 0.5)  # the watcher's write waits, then gives up
        assert answer["data"]["content"] == "The bot's database is not available right now; try again in a minute."
        assert answer["data"]["flags"] == 64
        assert fake.sent("POST", rf"/channels/{fake.general}/messages$") == []
        assert not await bot.resources.store.is_opted_out("discord", fake.bob["id"])
        post_after = await fake.user_message(fake.general, FRAMING + " Really.")
        await reply_sent(bot, post_after)
        assert len(fake.sent("POST", rf"/channels/{fake.general}/messages$")) == 1
        # known limit: a message whose store write gave up is not retried by the watcher
        assert await bot.resources.store.get_post("discord", lost["id"]) is None
