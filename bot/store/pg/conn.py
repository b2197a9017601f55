"""One asyncpg connection as the mixins' Tx, and PostgreSQL errors as one clear sentence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from bot.errors import StoreError
from bot.store.base import Row

ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PgTx:
    """The mixins' Tx over an asyncpg connection: the shared SQL (`$1` parameters) goes to the server as it is."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.raw = conn

    async def execute(self, sql: str, *args: Any) -> int:
        return affected(await self.raw.execute(sql, *args))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self.raw.fetch(sql, *args))


def affected(status: str) -> int:
    """Rows touched, from a command tag such as "INSERT 0 1", "UPDATE 3" or "DELETE 0"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


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


@contextmanager
def translated(where: str) -> Iterator[None]:
    try:
        yield
    except ERRORS as exc:
        raise StoreError(describe(exc, where)) from exc
