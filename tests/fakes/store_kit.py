"""Helpers shared by the store tests: a settable clock, post/verdict builders, and the `store` fixture that runs
each contract test on both backends (SQLite in tmp_path; PostgreSQL on a throwaway server, see pg_server).

Test modules import the fixture functions they use (`store_fixture`, ...); pytest finds them by their `name`.
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
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

from bot.models import Citation, Counterpoint, Post, PrefilterResult, Summary, SummaryPoint, Verdict
from bot.store import Store
from bot.store.dsn import is_postgres_dsn
from bot.store.schema import TABLES

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Injected as Store.open(..., clock=clock) so times in the database are under the test's control."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def db_path(tmp_path: Path) -> Path:
    # a nested folder that does not exist yet: the store must create it
    return tmp_path / "data" / "nested" / "cp.sqlite3"


def post(
    post_id: str,
    text: str = "",
    *,
    thread: str = "t1",
    author: str = "u1",
    at: datetime | None = None,
    platform: str = "discord",
    guild: str = "g1",
    channel: str = "c1",
    parent: str | None = None,
) -> Post:
    return Post(
        platform=platform,  # type: ignore[arg-type]
        post_id=post_id,
        thread_id=thread,
        author_id=author,
        author_name=f"name-{author}",
        text=text or f"text of post {post_id}",
        created_at=at or T0,
        channel_id=channel,
        guild_id=guild,
        parent_id=parent,
    )


def verdict(label: str = "frames", quote: str = "", reason: str = "") -> Verdict:
    return Verdict(
        label=label,  # type: ignore[arg-type]
        score=0.9,
        engine="llm",
        prefilter=PrefilterResult(passed=True, cues=("race", "china"), score=0.8),
        quote=quote,
        reason=reason,
    )


def counterpoint(text: str = "Research is global; see the sources.") -> Counterpoint:
    return Counterpoint(
        text=text,
        citations=(Citation(id="s1", title="AI Index", url="https://example.org/ai-index"),),
        engine="template",
        themes=("collaboration",),
    )


def summary(thread_id: str = "t1", covered_until: str = "") -> Summary:
    return Summary(
        thread_id=thread_id,
        points=(SummaryPoint("People discuss chips.", ("p1",)),),
        disagreements=(SummaryPoint("Whether export controls work.", ("p2", "p3")),),
        covered_until=covered_until,
        message_count=3,
    )


# --- the store fixture: every contract test runs on SQLite and on PostgreSQL ---


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
def backend_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the store lives: a new SQLite file, or the session's PostgreSQL database (skipped without one)."""
    if request.param == "sqlite":
        return str(db_path(tmp_path))
    return str(request.getfixturevalue("pg_dsn"))


@pytest_asyncio.fixture(name="store")
async def store_fixture(backend: str, clock: Clock) -> AsyncIterator[Store]:
    async with Store.open(backend, busy_timeout_ms=2000, clock=clock) as s:
        if is_postgres_dsn(backend):  # one database for the session: each test starts with empty tables
            async with s._write() as db:
                await db.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        yield s


@pytest_asyncio.fixture(name="sqlite_store")
async def sqlite_store_fixture(tmp_path: Path, clock: Clock) -> AsyncIterator[Store]:
    """For the tests that look at SQLite's own file, pragmas or several connections."""
    async with Store.open(db_path(tmp_path), busy_timeout_ms=2000, clock=clock) as s:
        yield s


async def leftovers(store: Store) -> bytes:
    """Where a removed text must not be found any more. SQLite: the database file and its WAL, as they are on
    disk. PostgreSQL: every live row of every table (old row versions stay in its files until VACUUM reuses the
    space, which it does not zero: the limit docs/storage.md describes)."""
    if not is_postgres_dsn(store.path):
        path = Path(store.path)
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    async with store._read() as db:
        rows = [await db.fetch(f"SELECT COALESCE(string_agg(t::text, '|'), '') FROM {n} t") for n in TABLES]
    return "\n".join(r[0][0] for r in rows).encode()


# --- a throwaway PostgreSQL server for the session ---


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
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        pytest.skip("asyncpg is not installed (pip install -e .[postgres])")
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


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(name="pg_server", scope="session")
def pg_server_fixture() -> Iterator[str]:
    """COUNTERPOINT_TEST_PG_DSN if set, else a cluster made by initdb in a temp folder, on a unix socket only (as
    the postgres user when we run as root); stopped at the end of the session."""
    with ExitStack() as stack:
        yield os.environ.get("COUNTERPOINT_TEST_PG_DSN") or stack.enter_context(_throwaway_cluster())


@pytest.fixture(name="pg_dsn", scope="session")
def pg_dsn_fixture(pg_server: str) -> Iterator[str]:
    """A DSN to a fresh database on the test server; the database is dropped at the end."""
    name = f"cp_test_{secrets.token_hex(4)}"
    asyncio.run(pg_admin(pg_server, f"CREATE DATABASE {name}"))
    try:
        yield with_database(pg_server, name)
    finally:
        asyncio.run(pg_admin(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def pg_admin(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
