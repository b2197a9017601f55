"""The store's contract tests against PgStore on a real, throwaway PostgreSQL.

The SQLite contract tests are imported from tests/test_store*.py and run here with this module's `store` fixture
(a PgStore), so both backends answer to the same assertions; tests that inspect SQLite's file or pragmas are
replaced by PostgreSQL versions below. The server: COUNTERPOINT_TEST_PG_DSN if set, else a cluster made by
initdb in a temp folder and started on a unix socket only (as the postgres user when we run as root); it is
stopped at the end. Each test gets empty tables; the session uses its own database, dropped at the end.
"""

from __future__ import annotations

import asyncio
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e .[postgres])")

from bot.errors import StoreError  # noqa: E402
from bot.store.pg import PG_MIGRATIONS, PgStore, redact  # noqa: E402
from bot.store.pg.dialect import translate  # noqa: E402
from bot.store.pg.schema import TABLES  # noqa: E402
from tests.fakes.store_kit import T0, Clock, counterpoint, post, summary, verdict  # noqa: E402
from tests.test_store import (  # noqa: E402, F401  (imported tests run here against PgStore)
    test_add_get_edit_post,
    test_channel_config_guild_wide_and_override,
    test_checkpoints,
    test_confirm_without_claim_still_blocks,
    test_cooldown_and_cap_queries,
    test_counterpoint_cache,
    test_dismiss_reply_records_the_first_dismissal_of_a_sent_reply,
    test_failed_write_rolls_back,
    test_reply_lifecycle,
    test_review_queue,
    test_sources,
    test_stats_counts_filters_and_precision,
    test_summaries_save_get_and_stale_on_edit_and_delete,
    test_thread_posts_order_after_and_limit,
    test_threads_and_active_threads,
    test_unreadable_json_is_store_error,
    test_verdicts_upsert,
    test_votes_changeable_one_per_user,
    test_watch_list,
)
from tests.test_store_concurrency import (  # noqa: E402, F401
    test_cancelled_write_rolls_back_and_frees_the_lock,
    test_many_tasks_claim_same_post_exactly_one_wins,
    test_reads_see_own_writes_while_others_write,
)
from tests.test_store_privacy import (  # noqa: E402, F401
    LONG_SECRET,
    SECRET,
    seed_copies,
    test_author_data_lists_what_is_stored,
    test_decided_review_keeps_decision_but_loses_text,
    test_deleted_post_is_not_stored_again_or_acted_on,
    test_opt_out_blocks_storage_and_replies,
)

pytestmark = pytest.mark.timeout(60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-c", " ".join(cmd)]


def _pg(cmd: list[str]) -> None:
    subprocess.run(_as_postgres(cmd), check=True, capture_output=True, timeout=60)


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    """initdb + pg_ctl start on a unix socket in a temp folder; stopped and removed on exit."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run .ci/postgres.sh)")
    bindir = os.path.dirname(found[-1])
    root = tempfile.mkdtemp(prefix="cp-pg-")
    data, port = os.path.join(root, "data"), _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    opts = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    try:
        _pg([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        _pg([f"{bindir}/pg_ctl", "-D", data, "-l", f"{root}/log", "-w", "-t", "30", "-o", opts, "start"])
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL: {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield f"postgresql://postgres@/postgres?host={root}&port={port}"
    finally:
        with suppress(subprocess.SubprocessError):
            _pg([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A DSN to a fresh database on the test server; the database is dropped at the end."""
    with ExitStack() as stack:
        server = os.environ.get("COUNTERPOINT_TEST_PG_DSN") or stack.enter_context(_throwaway_cluster())
        yield from _fresh_database(server)


def _fresh_database(admin_dsn: str) -> Iterator[str]:
    name = f"cp_test_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield _with_database(admin_dsn, name)
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def store(pg_dsn, clock):
    async with PgStore.open(pg_dsn, busy_timeout_ms=2000, clock=clock, max_size=8) as s:
        async with s._write() as db:
            await db.raw.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        yield s


async def live_text(store: PgStore) -> str:
    """Every live row of every table as text: what a query can still find."""
    async with store._read() as db:
        parts = [await db.raw.fetchval(f"SELECT COALESCE(string_agg(t::text, '|'), '') FROM {n} t") for n in TABLES]
    return "\n".join(parts)


# --- PostgreSQL versions of the SQLite tests that look at the file, pragmas or several connections ---


async def test_open_migrates_once_and_reports(pg_dsn, store):
    assert await store.schema_version() == len(PG_MIGRATIONS)
    assert await store.integrity_check() == "ok"
    # several processes opening at once: the advisory lock applies each step once, reopening is a no-op
    async with PgStore.open(pg_dsn) as a, PgStore.open(pg_dsn) as b:
        assert await a.schema_version() == await b.schema_version() == len(PG_MIGRATIONS)
    async with store._read() as db:
        assert await db.raw.fetchval("SELECT count(*) FROM schema_version") == 1
        assert await db.raw.fetchval("SELECT cp_norm('  Hello \t  WORLD ')") == "hello world"


async def test_delete_post_removes_text_and_copies_from_live_rows(store):
    await seed_copies(store, "p1", SECRET)
    await seed_copies(store, "p2", LONG_SECRET)
    await store.add_post(post("keep", "an unrelated post that stays"))
    live = await live_text(store)
    assert "Zanzibar-quokka-7731" in live and "Marmalade-ocelot-4410" in live  # the scan can see text at all

    assert await store.delete_post("discord", "p1") is True
    assert await store.delete_post("discord", "p2") is True
    assert await store.delete_post("discord", "p1") is False
    live = await live_text(store)
    assert "Zanzibar-quokka-7731" not in live and "Marmalade-ocelot-4410" not in live
    assert "an unrelated post that stays" in live
    assert await store.pending_reviews() == [] and await store.recent_counterpoints() == []
    v = await store.get_verdict("discord", "p1")
    assert v is not None and v.label == "frames" and v.quote == "" and v.reason == ""
    assert await store.checkpoint() is True  # VACUUM runs outside any transaction


async def test_forget_author_and_bulk_delete(store):
    await seed_copies(store, "p1", SECRET, author="alice")
    for i in range(3):
        await seed_copies(store, f"b{i}", f"Bulk-secret-{i}-walrus says the race decides everything", author="bob")
    await store.save_summary("discord", "t1", summary("t1"), covered_until="b1", content_hash="h")
    await store.vote("discord", "m1", "alice", 1)
    await store.vote("discord", "m1", "bob", -1)
    assert await store.forget_author("discord", "alice") == 1
    live = await live_text(store)
    assert "Zanzibar" not in live and "name-alice" not in live and "People discuss chips" not in live
    assert await store.votes_for("discord", "m1") == (0, 1)
    assert await store.get_summary("discord", "t1") is None
    assert await store.delete_posts("discord", ["b0", "b1", "missing", "b1"]) == 2
    live = await live_text(store)
    assert "Bulk-secret-0" not in live and "Bulk-secret-1" not in live and "Bulk-secret-2" in live
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["b2"]


async def test_retention_purge(store, clock):
    from datetime import timedelta

    old = T0 - timedelta(days=100)
    clock.now = old
    await store.add_post(post("old", "Pelican-harbor-2291 ancient words", at=old))
    await store.record_verdict("discord", "old", verdict(quote="Pelican-harbor-2291"))
    await store.enqueue_review("discord", "old", payload={"t": "Pelican-harbor-2291"})
    await store.save_counterpoint("k-old", "Pelican-harbor-2291 ancient words", counterpoint())
    clock.now = T0
    await store.add_post(post("new", "recent words stay", at=T0 - timedelta(days=10)))
    assert await store.purge_text_older_than(0) == 0
    assert await store.purge_text_older_than(90) == 1
    assert await store.purge_text_older_than(90) == 0
    assert "Pelican-harbor-2291" not in await live_text(store)
    purged = await store.get_post("discord", "old")
    assert purged is not None and purged.text == ""
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["new"]


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
        assert review is not None and review["moderator"] == f"mod{decided.index(True)}"
        assert await a.reopen_review(rid) is True and await b.reopen_review(rid) is False
        assert [r["id"] for r in await b.pending_reviews()] == [rid]
    # a pending claim survives a restart: better silent than double
    async with PgStore.open(pg_dsn) as again:
        assert await again.claim_reply("discord", "p0", thread_id="t1") is False


async def test_framing_detections_and_stats_on_postgres(store, clock):
    from datetime import timedelta

    from bot.models import Citation

    for i in range(3):
        await store.add_post(post(str(i), f"the AI race with China {i}", guild="g"))
        await store.record_verdict("discord", str(i), verdict(quote="race"))
    await store.claim_reply("discord", "0", thread_id="t1", guild_id="g")
    await store.confirm_reply("discord", "0", reply_id="r0", text="cp", citations=[Citation("a", "A", "https://a")])
    await store.vote("discord", "r0", "u1", 1)
    await store.enqueue_review("discord", "1", payload={"x": 1})
    await store.delete_post("discord", "2")
    assert await store.dismiss_reply("discord", "", reply_id="r0", moderator="m", reason="wrong here") is True
    rows = await store.framing_detections(T0 - timedelta(hours=1), T0 + timedelta(hours=1), guild_id="g", limit=10)
    by_id = {r["post_id"]: r for r in rows}
    assert set(by_id) == {"0", "1", "2"}
    assert (by_id["0"]["reply_status"], by_id["0"]["votes_up"], by_id["0"]["votes_down"]) == ("sent", 1, 0)
    assert by_id["0"]["dismissed_at"] is not None and by_id["1"]["review_status"] == "pending"
    assert by_id["2"]["text"] is None and by_id["0"]["recorded_at"].tzinfo is not None
    stats = await store.stats(guild_id="g")
    assert (stats["detections"], stats["replies"], stats["dismissed"], stats["votes_up"]) == (3, 1, 1, 1)
    assert (await store.stats(since=T0 + timedelta(days=1)))["posts"] == 0


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


def test_dialect_rewrites():
    assert translate("SELECT ? , ?1, ':x' WHERE a = :name AND b = :name") == (
        "SELECT $1 , $1, ':x' WHERE a = $1 AND b = $1",
        ("name",),
    )
    assert (
        translate("x IS NOT ? AND (? IS NULL) LIMIT ?")[0]
        == "x IS DISTINCT FROM $1 AND ($2::text IS NULL) LIMIT NULLIF($3, -1)"
    )
    assert translate("SUM(v.value = -1)")[0] == "SUM(CASE WHEN v.value = -1 THEN 1 ELSE 0 END)"


async def test_build_resources_picks_the_backend_from_storage_path(pg_dsn, store, tmp_path):
    from bot.app import open_store
    from bot.store import Store

    async with open_store(pg_dsn, busy_timeout_ms=1000) as chosen:
        assert isinstance(chosen, PgStore)
        assert await chosen.add_post(post("via-app")) is True
    async with open_store(tmp_path / "x.sqlite3", busy_timeout_ms=1000) as default:
        assert isinstance(default, Store)
    assert await store.get_post("discord", "via-app") is not None
