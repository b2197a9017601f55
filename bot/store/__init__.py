"""Storage for the bot: the only package with SQL. `Store` is the API (one mixin per table family, each statement
written once for both backends, see base.py); sqlite/ is the default backend, pg/ the PostgreSQL one; schema.py
defines the tables once for both; privacy.py says what deletion guarantees, replies.py how replies stay
exactly-once. docs/storage.md explains the design."""

from __future__ import annotations

from bot.store.content import StoredSummary
from bot.store.schema import MIGRATIONS
from bot.store.store import Store, register_backend


def _sqlite() -> type[Store]:
    from bot.store.sqlite import SqliteStore

    return SqliteStore


def _postgresql() -> type[Store]:
    from bot.store.pg import PgStore  # needs asyncpg: the `postgres` extra

    return PgStore


register_backend("sqlite", _sqlite)
register_backend("postgresql", _postgresql)

__all__ = ["MIGRATIONS", "Store", "StoredSummary"]
