"""Apply the schema's PostgreSQL scripts (bot.store.schema.PG_MIGRATIONS), tracked in `schema_migrations`.

All pending steps run in one transaction under an advisory lock, so processes opening a fresh database at once
apply each step exactly once, and a failing step leaves the database as it was (DDL is transactional).

Databases made by the first PostgreSQL store (before the schema was defined once) recorded "1" in a table named
schema_version; their tables are exactly the shared schema's version 3, so they are adopted as version 3.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from bot.store.schema import PG_MIGRATIONS, refuse_newer

_LOCK_KEY = 0x436F756E746572  # "Counter": the advisory lock that serialises migrations across processes
_LEGACY_VERSION = 3  # what the old schema_version table's "1" means


async def current_version(conn: asyncpg.Connection) -> int:
    if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def _adopt_legacy(conn: asyncpg.Connection) -> None:
    if not await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
        return
    if await conn.fetchval("SELECT MAX(version) FROM schema_version") == 1:
        await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", _LEGACY_VERSION)
        await conn.execute("DROP TABLE schema_version")


async def migrate(conn: asyncpg.Connection, migrations: Sequence[str] = PG_MIGRATIONS) -> tuple[int, int]:
    """Bring the database up to len(migrations); return (version before, version after)."""
    async with conn.transaction():
        await conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            await conn.execute("CREATE TABLE schema_migrations (version INTEGER NOT NULL)")
            await _adopt_legacy(conn)
        before = await current_version(conn)
        refuse_newer(before, len(migrations))
        for script in migrations[before:]:
            await conn.execute(script)  # no arguments: the simple protocol runs several statements
        if before < len(migrations):
            await conn.execute("DELETE FROM schema_migrations")
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", len(migrations))
    return before, max(before, len(migrations))
