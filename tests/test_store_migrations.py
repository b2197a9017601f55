"""Schema migrations by PRAGMA user_version: old files are upgraded in place, atomically."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import aiosqlite
import pytest

from bot.errors import StoreError
from bot.store import MIGRATIONS, Store
from bot.store.sqlite.migrate import migrate, split_statements
from tests.fakes.store_kit import counterpoint, db_path, post


def make_v1(path) -> None:
    """A database as the first release left it: schema 1 with data in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.executescript(MIGRATIONS[0])
        con.execute("PRAGMA user_version = 1")
        con.execute(
            "INSERT INTO posts (platform, post_id, thread_id, author_id, text, created_at) "
            "VALUES ('discord', 'old1', 't1', 'u1', 'written by version one', '2025-01-01T00:00:00.000000+00:00')"
        )
        cp = {"text": "old cached", "citations": [], "engine": "template", "themes": []}
        con.execute(
            "INSERT INTO cp_cache VALUES ('k-old', 'old claim', ?, '2025-01-01T00:00:00.000000+00:00')",
            (json.dumps(cp),),
        )
    finally:
        con.close()


def version_and_tables(path) -> tuple[int, set[str]]:
    con = sqlite3.connect(path)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return con.execute("PRAGMA user_version").fetchone()[0], tables
    finally:
        con.close()


async def test_version_0_file_gets_the_whole_schema(tmp_path):
    path = db_path(tmp_path)
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE operator_notes (note TEXT)")  # someone else's table stays untouched
    con.execute("INSERT INTO operator_notes VALUES ('keep me')")
    con.commit()
    con.close()
    async with Store.open(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        assert await store.add_post(post("p1")) is True
    version, tables = version_and_tables(path)
    assert version == len(MIGRATIONS) and {"posts", "replies", "reviews", "cp_cache", "operator_notes"} <= tables


async def test_version_1_file_is_migrated_with_its_data(tmp_path):
    path = db_path(tmp_path)
    make_v1(path)
    assert version_and_tables(path)[0] == 1
    async with Store.open(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        old = await store.get_post("discord", "old1")
        assert old is not None and old.text == "written by version one"
        assert (await store.find_counterpoint("k-old")).text == "old cached"
        # what version 2 added: cached counterpoints linked to their post are removed with it
        await store.save_counterpoint("k-new", "a different claim", counterpoint(), platform="discord", post_id="old1")
        await store.delete_post("discord", "old1")
        assert await store.find_counterpoint("k-new") is None
        assert await store.find_counterpoint("k-old") is not None
    async with Store.open(path) as store:  # reopening an up-to-date file changes nothing
        assert await store.schema_version() == len(MIGRATIONS)


def make_v2_with_a_dismissal(path) -> None:
    """Schema 2, where the Discord cog kept a dismissal as a checkpoint named dismissed:<platform>:<reply_id>."""
    make_v1(path)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in split_statements(MIGRATIONS[1]):
            con.execute(statement)
        con.execute("PRAGMA user_version = 2")
        for pid, rid in (("old1", "m1"), ("old2", "m2")):
            con.execute(
                "INSERT INTO replies (platform, post_id, thread_id, guild_id, status, reply_id, claimed_at, sent_at) "
                "VALUES ('discord', ?, 't1', 'g1', 'sent', ?, '2025-01-01T00:00:00.000000+00:00', "
                "'2025-01-01T00:00:01.000000+00:00')",
                (pid, rid),
            )
        record = {"post_id": "old1", "moderator": "mod7", "reason": "off-topic", "at": "2025-01-02T00:00:00+00:00"}
        for name, value in (("dismissed:discord:m1", json.dumps(record)), ("dismissed:discord:gone", "{}")):
            con.execute("INSERT INTO checkpoints VALUES (?, ?, '2025-01-02T00:00:00.000000+00:00')", (name, value))
    finally:
        con.close()


async def test_version_2_dismissal_checkpoints_move_into_the_replies(tmp_path):
    path = db_path(tmp_path)
    make_v2_with_a_dismissal(path)
    async with Store.open(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        moved = await store.get_reply("discord", "old1")
        assert moved is not None and (moved["dismissed_by"], moved["dismiss_reason"]) == ("mod7", "off-topic")
        assert moved["dismissed_at"] is not None and moved["dismissed_at"].isoformat().startswith("2025-01-02")
        untouched = await store.get_reply("discord", "old2")
        assert untouched is not None and untouched["dismissed_at"] is None
        assert await store.get_checkpoint("dismissed:discord:m1") is None  # carried over, so removed
        assert await store.get_checkpoint("dismissed:discord:gone") == "{}"  # no reply to carry it to: kept
        assert (await store.stats())["dismissed"] == 1
        assert await store.dismiss_reply("discord", "old1", reply_id="m1", moderator="m", reason="again") is False


async def test_newer_file_is_refused(tmp_path):
    path = db_path(tmp_path)
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer than this program"):
        async with Store.open(path):
            pass


async def test_failing_migration_leaves_the_file_unchanged(tmp_path):
    path = tmp_path / "m.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        with pytest.raises(sqlite3.OperationalError):
            await migrate(db, (MIGRATIONS[0], "CREATE TABLE fine (x);\nCREATE TABLE broken (;"))
        assert not db.in_transaction
    version, tables = version_and_tables(path)
    assert version == 0 and tables == set()  # not even step 1 stayed: one transaction for all
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db, MIGRATIONS) == (0, len(MIGRATIONS))
        assert await migrate(db, MIGRATIONS) == (len(MIGRATIONS), len(MIGRATIONS))


async def test_concurrent_first_open_migrates_once(tmp_path):
    path = db_path(tmp_path)

    async def open_and_use(n: int) -> int:
        async with Store.open(path, busy_timeout_ms=10000) as store:
            await store.add_post(post(f"p{n}"))
            return await store.schema_version()

    assert await asyncio.wait_for(asyncio.gather(*(open_and_use(n) for n in range(4))), 30) == [len(MIGRATIONS)] * 4


def test_split_statements_keeps_multiline_statements_whole():
    parts = split_statements("CREATE TABLE a (\n x TEXT -- a; comment\n);\nCREATE INDEX i ON a (x);\n")
    assert len(parts) == 2 and parts[0].startswith("CREATE TABLE a") and parts[1] == "CREATE INDEX i ON a (x);"
    assert all(sqlite3.complete_statement(p) for p in parts)
    assert sum(len(split_statements(m)) for m in MIGRATIONS) > 20
