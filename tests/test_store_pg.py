"""PostgreSQL-only checks of PgStore on a real, throwaway server (tests/fakes/store_kit.py starts it).

Every store method's contract runs on both backends in tests/test_store*.py (their `store` fixture is parametrized
over SQLite and PostgreSQL); this module covers what only PostgreSQL has: its migrations and their adoption of
databases made by the first PostgreSQL store, several pools (processes) at once, lock timeouts, errors that never
show the password, and the choice of backend by storage.path. It also checks that the schema, defined once,
gives both backends the same tables and columns, and that nothing in bot/store rewrites SQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e .[postgres])")

from bot.errors import StoreError  # noqa: E402
from bot.store import MIGRATIONS, Store  # noqa: E402
from bot.store.pg import PG_MIGRATIONS, PgStore, redact  # noqa: E402
from bot.store.schema import TABLES  # noqa: E402
from tests.fakes.store_kit import (  # noqa: E402, F401 (fixtures)
    clock_fixture,
    pg_admin,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    with_database,
)

pytestmark = pytest.mark.timeout(60)


@pytest_asyncio.fixture(name="store")
async def pg_store_fixture(pg_dsn, clock):
    async with PgStore.open(pg_dsn, busy_timeout_ms=2000, clock=clock, max_size=8) as s:
        async with s._write() as db:
            await db.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        yield s


async def test_open_migrates_once_and_reports(pg_dsn, store):
    assert await store.schema_version() == len(PG_MIGRATIONS)
    assert await store.integrity_check() == "ok"
    # several processes opening at once: the advisory lock applies each step once, reopening is a no-op
    async with PgStore.open(pg_dsn) as a, PgStore.open(pg_dsn) as b:
        assert await a.schema_version() == await b.schema_version() == len(PG_MIGRATIONS)
    async with store._read() as db:
        assert await db.raw.fetchval("SELECT count(*) FROM schema_migrations") == 1


async def test_claims_and_decisions_across_two_pools(pg_dsn, store):
    async with PgStore.open(pg_dsn) as a, PgStore.open(pg_dsn) as b:
        calls = [s.claim_reply("discord", f"p{n}", thread_id="t1") for n in range(5) for s in (a, b, a, b)]
        results = await asyncio.wait_for(asyncio.gather(*calls), 20)
        assert all(results[n * 4 : n * 4 + 4].count(True) == 1 for n in range(5))
        rid = await a.enqueue_review("reddit", "r1", payload={"draft": "x"})
        assert await b.enqueue_review("reddit", "r1", payload={"draft": "y"}) == rid  # idempotent per post
        decide = [s.decide_review(rid, status="approved", moderator=f"mod{i}") for i, s in enumerate([a, b] * 10)]
        decided = await asyncio.wait_for(asyncio.gather(*decide), 20)
        assert decided.count(True) == 1
        review = await b.get_review(rid)
        assert review is not None and review.moderator == f"mod{decided.index(True)}"
        assert await a.reopen_review(rid) is True and await b.reopen_review(rid) is False
        assert [r.id for r in await b.pending_reviews()] == [rid]
    # a pending claim survives a restart: better silent than double
    async with PgStore.open(pg_dsn) as again:
        assert await again.claim_reply("discord", "p0", thread_id="t1") is False


async def test_errors_are_one_sentence_without_the_password(pg_dsn, store):
    parts = urlsplit(pg_dsn)
    bad = urlunsplit(parts._replace(netloc="postgres:hunter2@", path="/no_such_db_here"))
    with pytest.raises(StoreError) as err:
        async with PgStore.open(bad, busy_timeout_ms=2000):
            pass
    assert "does not exist" in str(err.value) and "hunter2" not in str(err.value)
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(StoreError, match="no_such_table"):
        async with store._write() as db:
            await db.execute("SELECT * FROM no_such_table")
    closed = store
    await closed.close()
    with pytest.raises(StoreError, match="closed"):
        await closed.get_post("discord", "p1")


async def test_lock_timeout_gives_clear_error(pg_dsn, store):
    await store.add_post(post("p1"))
    async with PgStore.open(pg_dsn, busy_timeout_ms=100) as impatient, store._write() as db:
        await db.execute("UPDATE posts SET url = 'held' WHERE post_id = 'p1'")  # holds the row lock
        with pytest.raises(StoreError, match="is locked"):
            await impatient.edit_post("discord", "p1", "new text")


async def test_build_resources_picks_the_backend_from_storage_path(pg_dsn, store, tmp_path):
    from bot.app import open_store
    from bot.store import Store

    async with open_store(pg_dsn, busy_timeout_ms=1000) as chosen:
        assert isinstance(chosen, PgStore)
        assert await chosen.add_post(post("via-app")) is True
    async with open_store(tmp_path / "x.sqlite3", busy_timeout_ms=1000) as default:
        assert isinstance(default, Store)
    assert await store.get_post("discord", "via-app") is not None


async def test_a_database_of_the_first_postgres_store_is_adopted_as_version_3(pg_server):
    """The first PostgreSQL store created the v3 tables in one step and recorded "1" in schema_version."""
    dsn = with_database(pg_server, "cp_legacy")
    await pg_admin(pg_server, "DROP DATABASE IF EXISTS cp_legacy WITH (FORCE)")
    await pg_admin(pg_server, "CREATE DATABASE cp_legacy")
    try:
        conn = await asyncpg.connect(dsn)
        try:
            for script in PG_MIGRATIONS[:3]:  # the legacy layout is version 3; later steps apply on top
                await conn.execute(script)
            await conn.execute(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)"
            )
            await conn.execute("INSERT INTO checkpoints VALUES ('kept', 'v', 'now')")
        finally:
            await conn.close()
        async with PgStore.open(dsn) as store:
            assert await store.schema_version() == len(PG_MIGRATIONS)
            assert await store.get_checkpoint("kept") == "v"
            assert await store.integrity_check() == "ok"
    finally:
        await pg_admin(pg_server, "DROP DATABASE IF EXISTS cp_legacy WITH (FORCE)")


async def test_both_backends_get_the_same_tables_and_columns(store, tmp_path):
    """The schema is defined once (bot/store/schema.py); each dialect's DDL is rendered from it."""
    async with Store.open(tmp_path / "s.sqlite3"):
        pass
    con = sqlite3.connect(tmp_path / "s.sqlite3")
    try:
        lite = {(t, r[1]) for t in TABLES for r in con.execute(f"PRAGMA table_info({t})")}
    finally:
        con.close()
    async with store._read() as db:
        rows = await db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        )
    pg = {(r[0], r[1]) for r in rows if r[0] in TABLES and r[1] != "rowid"}  # SQLite's rowid is hidden
    assert pg == lite and len(lite) > 80
    assert len(MIGRATIONS) == len(PG_MIGRATIONS)
