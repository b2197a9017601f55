"""Connections, transactions and error translation for the PostgreSQL store.

A pool of asyncpg connections replaces SQLite's single writer: every `_write()` is one READ COMMITTED transaction
on its own pooled connection, so writers of this and other processes run side by side and PostgreSQL's row locks
order them. The guarantees the mixins rely on hold there too: `INSERT ... ON CONFLICT DO NOTHING` lets exactly
one claim land, and `UPDATE ... WHERE status = 'pending'` re-checks the row after waiting for a concurrent
update, so exactly one moderator's decision wins. `_read(snapshot=True)` is a read-only REPEATABLE READ
transaction. The connection objects handed to the mixins speak aiosqlite's small subset (execute ->
.rowcount, execute_fetchall) and rewrite the shared SQLite SQL on the way (dialect.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import asyncpg

from bot.errors import StoreError
from bot.models import utcnow
from bot.store.base import Clock, StoreBase
from bot.store.dsn import redact
from bot.store.pg.dialect import affected, arguments, translate
from bot.store.pg.schema import PG_MIGRATIONS, current_version, migrate

log = logging.getLogger(__name__)

# tables holding copies of what people wrote: vacuumed after a deletion so dead row versions go away sooner
_TEXT_TABLES = ("posts", "verdicts", "reviews", "cp_cache", "summaries", "votes")


def describe(exc: BaseException, where: str) -> str:
    """One clear sentence for a PostgreSQL or connection error, naming the (password-less) DSN."""
    state = str(getattr(exc, "sqlstate", "") or "")
    text = str(exc).rstrip(".")
    if state in {"55P03", "40P01"}:  # lock_timeout, deadlock
        return f"The database {where} is locked by another transaction (waited and gave up)."
    if state.startswith("53"):
        return f"The PostgreSQL server for {where} is out of resources (disk, memory or connections): {text}."
    if state.startswith("57"):
        return f"The PostgreSQL server for {where} stopped the statement (shutdown, cancel or timeout): {text}."
    if state.startswith("28"):
        return f"PostgreSQL refused the login for {where} (check the user and password)."
    if state == "3D000":
        return f"The database in {where} does not exist (create it first)."
    if state.startswith("08") or isinstance(exc, OSError | asyncpg.InterfaceError | TimeoutError):
        return f"Cannot reach the PostgreSQL server for {where}: {text or type(exc).__name__}."
    return f"The database {where} failed: {text}."


_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


@contextmanager
def translated(where: str) -> Iterator[None]:
    try:
        yield
    except _ERRORS as exc:
        raise StoreError(describe(exc, where)) from exc


@dataclass(frozen=True, slots=True)
class _Done:
    rowcount: int


class PgConnection:
    """The part of aiosqlite's Connection the store's mixins use, over one asyncpg connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.raw = conn

    async def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> _Done:
        text, names = translate(sql)
        return _Done(affected(await self.raw.execute(text, *arguments(names, params))))

    async def execute_fetchall(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        text, names = translate(sql)
        return list(await self.raw.fetch(text, *arguments(names, params)))


class PgBase(StoreBase):
    """Owns the pool; overrides StoreBase's connection handling so the same feature mixins run on PostgreSQL."""

    def __init__(self, dsn: str, pool: asyncpg.Pool, *, clock: Clock, acquire_timeout: float) -> None:
        self.path = redact(dsn)
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
        """`async with PgStore.open("postgresql://...") as store:`; creates or migrates the schema."""
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
        dsn = str(path)
        where = redact(dsn)
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
    async def _write(self) -> AsyncIterator[PgConnection]:  # type: ignore[override]
        """One write transaction; rolled back on any exception, including cancellation."""
        with self._translate():
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
                yield PgConnection(conn)

    @asynccontextmanager
    async def _read(self, *, snapshot: bool = False) -> AsyncIterator[PgConnection]:  # type: ignore[override]
        """A pooled connection; `snapshot=True` wraps several SELECTs in one consistent read-only transaction."""
        with self._translate():
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                if not snapshot:
                    yield PgConnection(conn)
                    return
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    yield PgConnection(conn)

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
            except _ERRORS as exc:
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
