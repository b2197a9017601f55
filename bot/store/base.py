"""What the feature mixins need from a backend, and nothing about either backend.

The mixins (posts, privacy, replies, ...) write each statement ONCE, in SQL that SQLite and PostgreSQL both
accept as it is, with parameters numbered `$1, $2, ...` (native to PostgreSQL; SQLite reads `$1` as a named
parameter, which its backend binds by number). Nothing rewrites that text: a statement one dialect rejects fails
the contract tests, which run every method on both backends. The backends (bot.store.sqlite, bot.store.pg)
implement the transaction hooks below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

Clock = Callable[[], datetime]

# what `LIMIT $n` gets for "no limit": SQLite's -1 and PostgreSQL's NULL are not accepted by the other
NO_LIMIT = 2**62


class Row(Protocol):
    """A result row by column name or position: sqlite3.Row and asyncpg.Record both are one."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Tx(Protocol):
    """One connection inside a transaction (or a plain read), as the mixins use it."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Run one statement; all its rows."""
        ...


def db_time(dt: datetime) -> str:
    """Aware datetimes are converted to UTC; naive ones are taken as UTC already."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def py_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def normalize(text: str | None) -> str:
    """Case- and whitespace-insensitive form used to find cached copies of a post's text."""
    return " ".join((text or "").casefold().split())


class StoreBase(ABC):
    """The transaction hooks every backend provides; feature mixins build on `_write()` and `_read()`."""

    path: str
    _clock: Clock

    @abstractmethod
    def _write(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction, committed at the end of the block and rolled back on any exception (including
        cancellation). Writes that must be all-or-nothing share one block."""

    def _write_small(self) -> AbstractAsyncContextManager[Tx]:
        """`_write()` for a short transaction on the per-post hot path (a few single-row statements, no loop over
        rows); a backend may run it more cheaply (SQLite: on the event loop's thread)."""
        return self._write()

    @abstractmethod
    def _read(self, *, snapshot: bool = False) -> AbstractAsyncContextManager[Tx]:
        """A connection for reads that sees every committed write; `snapshot=True` makes several SELECTs one
        consistent read transaction."""

    @abstractmethod
    async def checkpoint(self) -> bool:
        """After a deletion: make the backend drop its old copies of removed rows (see each backend)."""

    @abstractmethod
    async def integrity_check(self) -> str:
        """ "ok" when healthy, otherwise the backend's complaint."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def close(self) -> None: ...

    def _now(self) -> str:
        return db_time(self._clock())

    def _ago(self, days: float) -> str:
        return db_time(self._clock() - timedelta(days=days))

    async def _rows(self, sql: str, *args: Any) -> list[Row]:
        async with self._read() as db:
            return await db.fetch(sql, *args)

    async def _one(self, sql: str, *args: Any) -> Row | None:
        rows = await self._rows(sql, *args)
        return rows[0] if rows else None
