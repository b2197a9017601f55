"""One SQLite connection: its settings, the statement runner the mixins use, and error sentences."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite

from bot.errors import StoreError, StorePathError
from bot.store.base import Row


class SqliteTx:
    """The mixins' Tx over an aiosqlite connection. SQLite reads `$1` as a parameter NAMED "1", so the positional
    arguments are bound by those names; the SQL text is passed on untouched.

    Each statement is ONE trip to aiosqlite's thread (the statement and reading its result together), and a write
    transaction's `BEGIN IMMEDIATE` rides along with its first statement: a handled post costs a handful of thread
    hand-offs instead of a dozen. On a busy machine each hand-off waits for a CPU, so their number is what sets the
    slowest posts' time (bench/pipeline.py's p99)."""

    def __init__(self, db: aiosqlite.Connection, *, begin: str = "", inline: bool = False) -> None:
        self.raw = db
        self._begin = begin  # sent with the first statement, then cleared
        self._inline = inline  # run on the calling (event loop) thread: see SqliteStore._write_small

    @property
    def begun(self) -> bool:
        return not self._begin

    async def execute(self, sql: str, *args: Any) -> int:
        return int(await self._run(_rowcount, sql, _named(args)))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._run(_fetchall, sql, _named(args)))

    async def _run(self, fn: Any, sql: str, params: dict[str, Any]) -> Any:
        begin, self._begin = self._begin, ""
        if self._inline:
            return fn(self.raw._conn, begin, sql, params)
        # aiosqlite runs a callable on its thread only through _execute (stable since 0.11; pinned below 1)
        return await self.raw._execute(fn, self.raw._conn, begin, sql, params)

    # tests/faults reads the writer's own pragmas through the write handle under aiosqlite's name for this
    execute_fetchall = fetch


def _rowcount(conn: sqlite3.Connection, begin: str, sql: str, params: dict[str, Any]) -> int:
    if begin:
        conn.execute(begin)
    cur = conn.execute(sql, params)
    try:
        return cur.rowcount
    finally:
        cur.close()


def _fetchall(conn: sqlite3.Connection, begin: str, sql: str, params: dict[str, Any]) -> list[Any]:
    if begin:
        conn.execute(begin)
    cur = conn.execute(sql, params)
    try:
        return cur.fetchall()
    finally:
        cur.close()


def begin_now(conn: sqlite3.Connection, busy_timeout_ms: int) -> bool:
    """BEGIN IMMEDIATE on the calling thread if the write lock is free at once; False (nothing begun) when another
    process holds it, so that the caller waits for it on aiosqlite's thread instead of blocking the event loop."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


def _named(args: tuple[Any, ...]) -> dict[str, Any]:
    return {str(n): value for n, value in enumerate(args, 1)}


def describe(exc: BaseException, path: str) -> str:
    """One clear sentence for an sqlite error, naming the file."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return f"The database {path} is locked by another process or connection (waited and gave up)."
    if "full" in low:
        return f"The disk holding the database {path} is full."
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return f"The database {path} is corrupt or is not an SQLite database."
    if "readonly" in low or "read-only" in low:
        return f"The database {path} is read-only."
    if "unable to open" in low:
        return f"The database {path} cannot be opened (check the folder exists and is writable)."
    if "disk i/o" in low:
        return f"A disk I/O error occurred on the database {path}."
    return f"The database {path} failed: {text}."


@contextmanager
def translated(path: str, *, opening: bool = False) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        low = str(exc).lower()
        if opening and ("unable to open" in low or "readonly" in low or "read-only" in low):
            raise StorePathError(describe(exc, path)) from exc  # a setting to fix, not an outage
        raise StoreError(describe(exc, path)) from exc


async def connect(path: str, busy_timeout_ms: int, opened: list[aiosqlite.Connection], ro: bool = False) -> Any:
    # the writer is also used from the event loop's thread for short transactions, always under the store's write
    # lock, so never by two threads at once (SqliteStore._write_small)
    db = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=ro)
    opened.append(db)
    db.row_factory = sqlite3.Row
    # busy_timeout first: switching to WAL needs a lock another process may hold for a moment
    await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if ro:
        await db.execute("PRAGMA query_only = ON")
    else:
        await _enable_wal(db, busy_timeout_ms)
        await db.execute("PRAGMA synchronous = NORMAL")
        # no checkpoint inside a commit: SqliteStore checkpoints in the background (see SqliteStore._committed)
        await db.execute("PRAGMA wal_autocheckpoint = 0")
        # freed pages and cells are zeroed, so deleted text does not linger in the file
        await db.execute("PRAGMA secure_delete = ON")
    await db.execute("PRAGMA foreign_keys = ON")
    return db


async def _enable_wal(db: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    """Switching to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once (no busy handler) when
    several processes open a new file together: so look first, then retry briefly within the busy timeout."""
    deadline = time.monotonic() + max(busy_timeout_ms, 100) / 1000
    while True:
        try:
            async with db.execute("PRAGMA journal_mode") as cur:
                row = await cur.fetchone()
            if row is not None and str(row[0]).lower() == "wal":
                return
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)
