"""PostgreSQL storage (asyncpg, the optional `postgres` extra): the same API and SQL as bot.store, selected when
storage.path is a postgresql:// DSN. See base.py for transactions, schema.py for migrations, store.py for what
deletion guarantees on PostgreSQL."""

from __future__ import annotations

from bot.store.dsn import is_postgres_dsn, redact
from bot.store.pg.schema import PG_MIGRATIONS
from bot.store.pg.store import PgStore

__all__ = ["PG_MIGRATIONS", "PgStore", "is_postgres_dsn", "redact"]
