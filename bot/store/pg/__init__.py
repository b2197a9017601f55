"""PostgreSQL storage (asyncpg, the optional `postgres` extra), selected when storage.path is a postgresql:// DSN:
the same Store, mixins and SQL as SQLite. See store.py for transactions and what deletion guarantees there,
migrate.py for migrations."""

from __future__ import annotations

from bot.store.dsn import is_postgres_dsn, redact
from bot.store.pg.store import PgStore
from bot.store.schema import PG_MIGRATIONS

__all__ = ["PG_MIGRATIONS", "PgStore", "is_postgres_dsn", "redact"]
