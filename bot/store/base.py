"""Connections, transactions and error translation for the store.

One long-lived writer connection: every write is `BEGIN IMMEDIATE ... COMMIT` under one asyncio.Lock, so tasks
never interleave each other's statements inside a transaction. Nothing but SQL is awaited inside (no network).
Reads go through a second connection (WAL lets it read while the writer writes) under its own lock, so a read
never runs inside someone's open transaction and always sees every committed write, including the caller's own.
For ":memory:" there is one connection and one lock for both.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import aiosqlite

from bot.errors import ConfigError, StoreError
from bot.models import utcnow
from bot.store.schema import MIGRATIONS, migrate, user_version

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Row = sqlite3.Row
Params = Sequence[Any] | Mapping[str, Any]


def db_time(dt: datetime) -> str:
    """Aware datetimes are converted to UTC; naive ones are taken as UTC already."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def py_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class StorePathError(StoreError, ConfigError):
    """storage.path names a place where the database cannot be created or opened: a setting to fix (exit code 2)."""


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


class StoreBase:
    """Owns the connections. Feature mixins (posts, replies, ...) build on `_write()` and `_read()`."""

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection, *, clock: Clock) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._clock = clock
        self._wlock = asyncio.Lock()
        self._rlock = self._wlock if reader is writer else asyncio.Lock()
        self._closed = False

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = 5000, clock: Clock = utcnow) -> AsyncIterator[Self]:
        """`async with Store.open(path) as store:`; creates the folder and the schema, migrates old files."""
        store = await cls.connect(path, busy_timeout_ms=busy_timeout_ms, clock=clock)
        try:
            yield store
        finally:
            await store.close()

    @classmethod
    async def connect(cls, path: str | Path, *, busy_timeout_ms: int = 5000, clock: Clock = utcnow) -> Self:
        """Open without a context manager; the caller must `await store.close()`."""
        name = str(path)
        if name != ":memory:":
            try:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorePathError(
                    f"Cannot create the folder for the database {name} (storage.path): {exc.strerror}."
                ) from None
            if await asyncio.to_thread(Path(name).is_dir):
                raise StorePathError(f"storage.path {name} is a folder; name a database file inside it.")
        opened: list[aiosqlite.Connection] = []
        try:
            with _translated(name, opening=True):
                writer = await _connect(name, busy_timeout_ms, opened)
                before, after = await migrate(writer, MIGRATIONS)
                if before != after:
                    log.info("database %s migrated from schema %d to %d", name, before, after)
                reader = writer if name == ":memory:" else await _connect(name, busy_timeout_ms, opened, ro=True)
        except BaseException:
            for db in opened:
                with suppress(sqlite3.Error, ValueError):
                    await db.close()
            raise
        return cls(name, writer, reader, clock=clock)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._wlock:
            for db in {id(self._reader): self._reader, id(self._writer): self._writer}.values():
                with suppress(sqlite3.Error, ValueError):
                    await db.close()

    def _now(self) -> str:
        return db_time(self._clock())

    def _ago(self, days: float) -> str:
        return db_time(self._clock() - timedelta(days=days))

    @contextmanager
    def _translate(self) -> Iterator[None]:
        if self._closed:
            raise StoreError(f"The store for {self.path} is closed.")
        with _translated(self.path):
            yield

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; rolled back on any exception, including cancellation."""
        async with self._wlock:
            with self._translate():
                db = self._writer
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    await db.execute("COMMIT")
                except BaseException:
                    # aiosqlite runs calls in FIFO order on its thread, so this ROLLBACK lands before the next
                    # writer's BEGIN even when we are being cancelled.
                    if db.in_transaction:
                        with suppress(sqlite3.Error):
                            await db.execute("ROLLBACK")
                    raise

    @asynccontextmanager
    async def _read(self, *, snapshot: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """The read connection; `snapshot=True` wraps several SELECTs in one consistent read transaction."""
        async with self._rlock:
            with self._translate():
                db = self._reader
                if not snapshot:
                    yield db
                    return
                await db.execute("BEGIN")
                try:
                    yield db
                finally:
                    if db.in_transaction:
                        await db.execute("COMMIT")

    async def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._read() as db:
            return list(await db.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it, so pages freed by a deletion (zeroed by
        secure_delete) replace the old ones on disk and no old copy stays in the WAL. False if readers of other
        processes prevented a full checkpoint."""
        if self.path == ":memory:":
            return True
        async with self._wlock, self._rlock:
            with self._translate():
                rows = list(await self._writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
        busy = bool(rows and rows[0][0])
        if busy:
            log.warning("WAL checkpoint of %s was blocked by a reader; old pages stay until the next one", self.path)
        return not busy

    async def integrity_check(self) -> str:
        """ "ok" for a healthy file, otherwise SQLite's first complaint."""
        rows = await self._rows("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows[:5])

    async def schema_version(self) -> int:
        async with self._read() as db:
            return await user_version(db)


@contextmanager
def _translated(path: str, *, opening: bool = False) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        low = str(exc).lower()
        if opening and ("unable to open" in low or "readonly" in low or "read-only" in low):
            raise StorePathError(describe(exc, path)) from exc
        raise StoreError(describe(exc, path)) from exc


async def _connect(path: str, busy_timeout_ms: int, opened: list[aiosqlite.Connection], ro: bool = False) -> Any:
    db = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    opened.append(db)
    db.row_factory = sqlite3.Row
    # busy_timeout first: switching to WAL needs a lock another process may hold for a moment
    await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if ro:
        await db.execute("PRAGMA query_only = ON")
    else:
        await _enable_wal(db, busy_timeout_ms)
        await db.execute("PRAGMA synchronous = NORMAL")
        # freed pages and cells are zeroed, so deleted text does not linger in the file
        await db.execute("PRAGMA secure_delete = ON")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.create_function("cp_norm", 1, normalize, deterministic=True)
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


def normalize(text: str | None) -> str:
    """Case- and whitespace-insensitive form used to find cached copies of a post's text."""
    return " ".join((text or "").casefold().split())
