"""Apply the schema's SQLite scripts (bot.store.schema.MIGRATIONS), tracked by PRAGMA user_version.

All pending migrations run in ONE `BEGIN IMMEDIATE` transaction (SQLite DDL is transactional), and the version is
re-read inside it, so two processes opening a fresh file at once cannot both apply the same step, and a failing
step leaves the file exactly as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from bot.store.schema import MIGRATIONS, refuse_newer


def split_statements(script: str) -> list[str]:
    """Split a script into statements (executescript would COMMIT our transaction first)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


async def user_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(db: aiosqlite.Connection, migrations: Sequence[str] = MIGRATIONS) -> tuple[int, int]:
    """Bring the database up to len(migrations); return (version before, version after)."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        before = await user_version(db)
        refuse_newer(before, len(migrations))
        for script in migrations[before:]:
            for statement in split_statements(script):
                await db.execute(statement)
        await db.execute(f"PRAGMA user_version = {len(migrations)}")
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    return before, max(before, len(migrations))
