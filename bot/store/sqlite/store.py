"""SqliteStore: the Store over one SQLite file (the default backend).

One long-lived writer connection: every write is `BEGIN IMMEDIATE ... COMMIT` under one asyncio.Lock, so tasks
never interleave each other's statements inside a transaction. Nothing but SQL is awaited inside (no network).
Reads go through a second connection (WAL lets it read while the writer writes) under its own lock, so a read
never runs inside someone's open transaction and always sees every committed write, including the caller's own.
For ":memory:" there is one connection and one lock for both. Deleted text is gone for good: the writer runs with
`secure_delete` (freed bytes are zeroed) and `checkpoint()` truncates the WAL after every deletion.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Self

import aiosqlite

from bot.errors import StoreError, StorePathError
from bot.models import utcnow
from bot.store.base import Clock
from bot.store.schema import MIGRATIONS
from bot.store.sqlite.conn import SqliteTx, begin_now, connect, translated
from bot.store.sqlite.migrate import migrate, user_version
from bot.store.store import Store

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 500  # commits between WAL checkpoints (SQLite's automatic one came every ~1,000 pages)


class SqliteStore(Store):
    def __init__(
        self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection, *, clock: Clock,
        busy_timeout_ms: int = 5000,
    ) -> None:  # fmt: skip
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = writer
        self._reader = reader
        self._clock = clock
        self._wlock = asyncio.Lock()
        self._rlock = self._wlock if reader is writer else asyncio.Lock()
        self._closed = False
        self._commits = 0

    @classmethod
    async def connect(cls, path: str | Path, *, busy_timeout_ms: int = 5000, clock: Clock = utcnow) -> Self:
        """Open without a context manager; the caller must `await store.close()`. Creates the folder and the
        schema, migrates old files."""
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
            with translated(name, opening=True):
                writer = await connect(name, busy_timeout_ms, opened)
                before, after = await migrate(writer, MIGRATIONS)
                if before != after:
                    log.info("database %s migrated from schema %d to %d", name, before, after)
                reader = writer if name == ":memory:" else await connect(name, busy_timeout_ms, opened, ro=True)
        except BaseException:
            for db in opened:
                with suppress(sqlite3.Error, ValueError):
                    await db.close()
            raise
        return cls(name, writer, reader, clock=clock, busy_timeout_ms=busy_timeout_ms)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._wlock:
            for db in {id(self._reader): self._reader, id(self._writer): self._writer}.values():
                with suppress(sqlite3.Error, ValueError):
                    await db.close()

    @contextmanager
    def _translate(self) -> Iterator[None]:
        if self._closed:
            raise StoreError(f"The store for {self.path} is closed.")
        with translated(self.path):
            yield

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[SqliteTx]:
        async with self._wlock:
            with self._translate():
                await self._checkpoint_if_due()
                db = self._writer
                tx = SqliteTx(db, begin="BEGIN IMMEDIATE")  # begins with its first statement, in the same trip
                try:
                    yield tx
                    if tx.begun:
                        await db.execute("COMMIT")
                        self._committed()
                except BaseException:
                    await _roll_back(db)
                    raise

    @asynccontextmanager
    async def _write_small(self) -> AsyncIterator[SqliteTx]:
        """A short write transaction of the per-post hot path (a few single-row statements): its statements run on
        the event loop's own thread, in microseconds, instead of one trip each to aiosqlite's thread, whose wake-ups
        wait for a CPU on a busy machine (that wait was the pipeline's p99). The commit is an append to the WAL (no
        sync, no checkpoint: see _committed). Only what may block goes to the thread: BEGIN when another process
        holds the write lock (waited out within busy_timeout), and a ROLLBACK."""
        async with self._wlock:
            with self._translate():
                await self._checkpoint_if_due()
                db = self._writer
                if not begin_now(db._conn, self._busy_timeout_ms):
                    await db.execute("BEGIN IMMEDIATE")
                try:
                    yield SqliteTx(db, inline=True)
                    db._conn.execute("COMMIT")  # WAL + synchronous=NORMAL: an append, no sync (checkpoints apart)
                    self._committed()
                except BaseException:
                    await _roll_back(db)
                    raise

    def _committed(self) -> None:
        self._commits += 1

    async def _checkpoint_if_due(self) -> None:
        """The writer does not checkpoint the WAL inside a commit (wal_autocheckpoint = 0: that would write and sync
        the database file inside a COMMIT that now runs on the event loop's thread). Every CHECKPOINT_EVERY commits
        the next writer checkpoints first, on aiosqlite's thread, under the write lock: with no write in between it
        completes, and the write that follows restarts the WAL from its start, so the WAL stays bounded. One write
        in CHECKPOINT_EVERY pays for it, as one in a few hundred paid for SQLite's automatic checkpoint before."""
        if self._commits < CHECKPOINT_EVERY or self.path == ":memory:":
            return
        self._commits = 0
        try:
            await self._writer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as exc:  # another process is checkpointing: the next one catches up
            log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)

    @asynccontextmanager
    async def _read(self, *, snapshot: bool = False) -> AsyncIterator[SqliteTx]:
        async with self._rlock:
            with self._translate():
                db = self._reader
                if not snapshot:
                    yield SqliteTx(db)
                    return
                await db.execute("BEGIN")
                try:
                    yield SqliteTx(db)
                finally:
                    if db.in_transaction:
                        await db.execute("COMMIT")

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
            return await user_version(db.raw)


async def _roll_back(db: aiosqlite.Connection) -> None:
    """Undo a failed write transaction, if one is open. aiosqlite runs calls in FIFO order on its thread, so this
    ROLLBACK lands before the next writer's BEGIN even when the caller is being cancelled."""
    if db.in_transaction:
        with suppress(sqlite3.Error):
            await db.execute("ROLLBACK")
