"""PgStore: the Store over PostgreSQL (asyncpg), the same mixins and the very same SQL as SQLite.

A pool of connections replaces SQLite's single writer: every `_write()` is one READ COMMITTED transaction on its
own pooled connection, so writers of this and other processes run side by side and PostgreSQL's row locks order
them. The guarantees the mixins rely on hold there too: `INSERT ... ON CONFLICT DO NOTHING` lets exactly one claim
land, and `UPDATE ... WHERE status = 'pending'` re-checks the row after waiting for a concurrent update, so
exactly one moderator's decision wins. `_read(snapshot=True)` is a read-only REPEATABLE READ transaction.

Privacy is weaker than on SQLite, and honestly so: deleting a post removes its text and every copy from the live
rows in the same transaction, but PostgreSQL's MVCC keeps the old row versions (with the text) in the table files
until VACUUM; `checkpoint()`, which every deletion calls, runs a plain VACUUM on the text-holding tables, which
makes that space reusable but does not zero it, and WAL segments, replicas and backups keep their copies for as
long as they are retained. There is no per-author encryption ("crypto-shredding").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Self

import asyncpg

from bot.errors import StoreError
from bot.models import utcnow
from bot.store.base import Clock
from bot.store.dsn import redact
from bot.store.pg.conn import ERRORS, PgTx, translated
from bot.store.pg.migrate import current_version, migrate
from bot.store.schema import PG_MIGRATIONS
from bot.store.store import Store

log = logging.getLogger(__name__)

# tables holding copies of what people wrote: vacuumed after a deletion so dead row versions go away sooner
_TEXT_TABLES = ("posts", "verdicts", "reviews", "cp_cache", "summaries", "votes")


class PgStore(Store):
    """`async with PgStore.open("postgresql://...") as store:` (or Store.open with the DSN)."""

    def __init__(self, dsn: str, pool: asyncpg.Pool, *, clock: Clock, acquire_timeout: float) -> None:
        self.path = redact(dsn)  # messages and logs never show the password
        self._pool = pool
        self._clock = clock
        self._acquire_timeout = acquire_timeout
        self._vacuum_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        clock: Clock = utcnow,
        min_size: int = 1,
        max_size: int = 10,
    ) -> AsyncIterator[Self]:
        """Store.open with the pool's size."""
        store = await cls.connect(
            path, busy_timeout_ms=busy_timeout_ms, clock=clock, min_size=min_size, max_size=max_size
        )
        try:
            yield store
        finally:
            await store.close()

    @classmethod
    async def connect(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        clock: Clock = utcnow,
        min_size: int = 1,
        max_size: int = 10,
    ) -> Self:
        """Open a pool on a `postgresql://` DSN and migrate the schema; the caller must `await store.close()`.
        `busy_timeout_ms` becomes PostgreSQL's lock_timeout and the wait for a free pooled connection."""
        dsn, where = str(path), redact(str(path))
        settings = {"lock_timeout": str(int(busy_timeout_ms)), "application_name": "counterpoint"}
        with translated(where):
            pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, server_settings=settings, timeout=busy_timeout_ms / 1000
            )
        try:
            with translated(where):
                async with pool.acquire() as conn:
                    before, after = await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        if before != after:
            log.info("database %s migrated from schema %d to %d", where, before, after)
        return cls(dsn, pool, clock=clock, acquire_timeout=max(busy_timeout_ms, 100) / 1000)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._pool.close(), timeout=10)
        except TimeoutError:
            log.warning("closing the PostgreSQL pool for %s timed out; terminating its connections", self.path)
            self._pool.terminate()

    @contextmanager
    def _translate(self) -> Iterator[None]:
        if self._closed:
            raise StoreError(f"The store for {self.path} is closed.")
        with translated(self.path):
            yield

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[PgTx]:
        with self._translate():
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
                yield PgTx(conn)

    @asynccontextmanager
    async def _read(self, *, snapshot: bool = False) -> AsyncIterator[PgTx]:
        with self._translate():
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                if not snapshot:
                    yield PgTx(conn)
                    return
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    yield PgTx(conn)

    async def checkpoint(self) -> bool:
        """After a deletion: VACUUM the tables that hold copies of people's words, so the dead row versions still
        holding the removed text become reusable space now rather than at autovacuum's next visit. Limits: VACUUM
        does not zero the space (the bytes stay in the data files until overwritten), and WAL segments, replicas
        and backups keep their copies for as long as they are kept. Cheap when little changed (the visibility map
        lets it skip clean pages). False if it could not run (it never fails the deletion that asked for it)."""
        if self._closed:
            raise StoreError(f"The store for {self.path} is closed.")
        async with self._vacuum_lock:
            try:
                async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                    await conn.execute(f"VACUUM {', '.join(_TEXT_TABLES)}")
            except ERRORS as exc:
                log.warning("VACUUM after a deletion on %s failed (%s); autovacuum will do it later", self.path, exc)
                return False
        return True

    async def integrity_check(self) -> str:
        """ "ok" when the server answers and the schema is the one this program knows. PostgreSQL has no cheap
        whole-database check like SQLite's; run pg_amcheck for a real one."""
        version = await self.schema_version()
        if version != len(PG_MIGRATIONS):
            return f"schema version {version}, expected {len(PG_MIGRATIONS)}"
        return "ok"

    async def schema_version(self) -> int:
        async with self._read() as db:
            return await current_version(db.raw)
