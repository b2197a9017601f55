"""The Store: every feature mixin, over whichever backend `storage.path` names. The only place in the project
with SQL is this package.

`Store` is the type the rest of the bot uses; its two backends are subclasses, so either one IS a Store (no
casts): bot.store.sqlite.SqliteStore for a file path (the default) and bot.store.pg.PgStore for a postgresql://
DSN. `Store.open(path)` picks the backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Self

from bot.errors import ConfigError
from bot.models import utcnow
from bot.store.admin import AdminMixin
from bot.store.base import Clock
from bot.store.content import ContentMixin
from bot.store.dsn import is_postgres_dsn
from bot.store.fallbacks import FallbacksMixin
from bot.store.limits import LimitsMixin
from bot.store.posts import PostsMixin
from bot.store.privacy import PrivacyMixin
from bot.store.replies import RepliesMixin
from bot.store.stats import DetectionsMixin, StatsMixin


class Store(
    PostsMixin,
    PrivacyMixin,
    RepliesMixin,
    ContentMixin,
    AdminMixin,
    StatsMixin,
    DetectionsMixin,
    LimitsMixin,
    FallbacksMixin,
):
    """`async with Store.open(path, busy_timeout_ms=...) as store:`; every method is async and raises
    bot.errors.StoreError (one clear sentence) when the database fails."""

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = 5000, clock: Clock = utcnow) -> AsyncIterator[Self]:
        """`async with Store.open(path) as store:`; creates the schema or migrates an older one."""
        store = await cls.connect(path, busy_timeout_ms=busy_timeout_ms, clock=clock)
        try:
            yield store
        finally:
            await store.close()

    @classmethod
    async def connect(cls, path: str | Path, *, busy_timeout_ms: int = 5000, clock: Clock = utcnow) -> Self:
        """Open without a context manager; the caller must `await store.close()`. Each backend overrides this;
        here, on Store itself, the path chooses the backend."""
        backend = _backend(path)
        store = await backend.connect(path, busy_timeout_ms=busy_timeout_ms, clock=clock)
        if not isinstance(store, cls):
            await store.close()
            raise TypeError(f"{cls.__name__}.connect cannot open {backend.__name__}'s storage")
        return store


# How each backend class is loaded, registered by the package (bot/store/__init__.py): this module names no backend,
# so the backends, which subclass Store, are never imported by it (no import circle), and PostgreSQL's asyncpg (an
# optional extra) loads only for a postgresql:// path.
_BACKENDS: dict[str, Callable[[], type[Store]]] = {}


def register_backend(kind: str, load: Callable[[], type[Store]]) -> None:
    _BACKENDS[kind] = load


def _backend(path: str | Path) -> type[Store]:
    if not is_postgres_dsn(path):
        return _BACKENDS["sqlite"]()
    try:
        return _BACKENDS["postgresql"]()
    except ImportError as exc:
        raise ConfigError(
            f"storage.path is a PostgreSQL DSN but {exc.name} is not installed "
            "(pip install 'counterpoint-bot[postgres]')."
        ) from None
