"""SQLite storage (aiosqlite), the default: see store.py for connections and transactions, conn.py for the
per-connection settings, migrate.py for migrations by PRAGMA user_version."""

from __future__ import annotations

from bot.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
