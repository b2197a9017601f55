"""PgStore: the same feature mixins as bot.store.Store over PostgreSQL."""

from __future__ import annotations

from bot.store.admin import AdminMixin
from bot.store.content import ContentMixin
from bot.store.pg.base import PgBase
from bot.store.posts import PostsMixin
from bot.store.privacy import PrivacyMixin
from bot.store.replies import RepliesMixin
from bot.store.stats import DetectionsMixin, StatsMixin


class PgStore(PostsMixin, PrivacyMixin, RepliesMixin, ContentMixin, AdminMixin, StatsMixin, DetectionsMixin, PgBase):
    """PostgreSQL storage with exactly the public API of bot.store.Store (the very same methods and SQL, rewritten
    for PostgreSQL by dialect.py). `async with PgStore.open("postgresql://...") as store:`; every method is async
    and raises bot.errors.StoreError (one clear sentence, never the password) when the database fails.

    Privacy is weaker than on SQLite, and honestly so: deleting a post removes its text and every copy from the
    live rows in the same transaction, but PostgreSQL's MVCC keeps the old row versions (with the text) in the
    table files until VACUUM; `checkpoint()`, which every deletion calls, runs a plain VACUUM on the text-holding
    tables, which makes that space reusable but does not zero it, and WAL segments, replicas and backups keep
    their copies for as long as they are retained. There is no per-author encryption ("crypto-shredding")."""
