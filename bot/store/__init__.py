"""SQLite storage for the bot: the only package with SQL. See base.py for the connection and transaction rules,
schema.py for migrations, privacy.py for what deletion guarantees, replies.py for exactly-once replies."""

from __future__ import annotations

from bot.store.content import StoredSummary
from bot.store.schema import MIGRATIONS
from bot.store.store import Store

__all__ = ["MIGRATIONS", "Store", "StoredSummary"]
