"""The schema as an ordered list of migrations, tracked by PRAGMA user_version.

MIGRATIONS[i] takes a database from version i to i+1. Never edit a released entry: append a new one. All pending
migrations run in ONE `BEGIN IMMEDIATE` transaction (SQLite DDL is transactional), and the version is re-read
inside it, so two processes opening a fresh file at once cannot both apply the same step, and a failing step
leaves the file exactly as it was.

Times are stored as ISO-8601 UTC text with microseconds, so they sort as text. Text columns that hold what people
wrote (posts.text, verdicts.quote/reason, reviews.payload, cp_cache.claim_text, summaries.summary) are the ones
the privacy code scrubs; none of them is indexed, so no index page keeps a copy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from bot.errors import StoreError

V1_INITIAL = """
CREATE TABLE posts (
    platform TEXT NOT NULL, post_id TEXT NOT NULL, thread_id TEXT NOT NULL,
    channel_id TEXT NOT NULL DEFAULT '', guild_id TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL DEFAULT '', author_name TEXT, author_is_bot INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT, url TEXT NOT NULL DEFAULT '',
    text TEXT, created_at TEXT NOT NULL, edited_at TEXT, deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX posts_thread ON posts (platform, thread_id, created_at);
CREATE INDEX posts_author ON posts (platform, author_id);
CREATE INDEX posts_created ON posts (created_at);

CREATE TABLE threads (
    platform TEXT NOT NULL, thread_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    channel_id TEXT NOT NULL DEFAULT '', guild_id TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, thread_id)
);

CREATE TABLE verdicts (
    platform TEXT NOT NULL, post_id TEXT NOT NULL, label TEXT NOT NULL, score REAL NOT NULL,
    engine TEXT NOT NULL, prefilter TEXT NOT NULL, quote TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX verdicts_recorded ON verdicts (recorded_at);

CREATE TABLE replies (
    platform TEXT NOT NULL, post_id TEXT NOT NULL, thread_id TEXT NOT NULL, guild_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'reply', status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    reply_id TEXT, text TEXT, citations TEXT, claimed_at TEXT NOT NULL, sent_at TEXT,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX replies_thread ON replies (platform, thread_id, claimed_at);
CREATE INDEX replies_guild ON replies (platform, guild_id, claimed_at);
CREATE INDEX replies_reply ON replies (platform, reply_id);

CREATE TABLE summaries (
    platform TEXT NOT NULL, thread_id TEXT NOT NULL, summary TEXT NOT NULL,
    covered_until TEXT NOT NULL DEFAULT '', content_hash TEXT NOT NULL DEFAULT '',
    stale INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, thread_id)
);

CREATE TABLE votes (
    platform TEXT NOT NULL, reply_id TEXT NOT NULL, user_id TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)), updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, reply_id, user_id)
);
CREATE INDEX votes_user ON votes (platform, user_id);

CREATE TABLE channel_config (
    guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id, key)
);

CREATE TABLE watched (
    guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, added_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

CREATE TABLE optouts (
    platform TEXT NOT NULL, user_id TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (platform, user_id)
);

CREATE TABLE checkpoints (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, post_id TEXT NOT NULL,
    payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected')),
    moderator TEXT, created_at TEXT NOT NULL, decided_at TEXT,
    UNIQUE (platform, post_id)
);
CREATE INDEX reviews_status ON reviews (status, id);

CREATE TABLE cp_cache (
    claim_key TEXT PRIMARY KEY, claim_text TEXT NOT NULL, counterpoint TEXT NOT NULL, created_at TEXT NOT NULL
);

CREATE TABLE sources (id TEXT PRIMARY KEY, source TEXT NOT NULL, added_by TEXT NOT NULL, added_at TEXT NOT NULL);
"""

# v2: a cached counterpoint remembers the post it was made for, so deleting that post (or forgetting its author)
# removes the cached claim text by reference, not only by matching the text.
V2_CACHE_POST_LINK = """
ALTER TABLE cp_cache ADD COLUMN platform TEXT;
ALTER TABLE cp_cache ADD COLUMN post_id TEXT;
CREATE INDEX cp_cache_post ON cp_cache (platform, post_id);
CREATE INDEX cp_cache_created ON cp_cache (created_at);
CREATE INDEX reviews_decided ON reviews (decided_at);
"""

# v3: a moderator's dismissal of a sent reply is part of the reply (who, why, when), so stats and the digest can
# count it. Dismissals recorded before as checkpoints named dismissed:<platform>:<reply_id> are carried over (the
# checkpoint's updated_at is the moment, in the store's time format) and those checkpoints removed.
V3_REPLY_DISMISSALS = """
ALTER TABLE replies ADD COLUMN dismissed_at TEXT;
ALTER TABLE replies ADD COLUMN dismissed_by TEXT;
ALTER TABLE replies ADD COLUMN dismiss_reason TEXT;
CREATE INDEX replies_dismissed ON replies (dismissed_at);
UPDATE replies SET
  dismissed_at = (SELECT c.updated_at FROM checkpoints c
                  WHERE c.name = 'dismissed:' || replies.platform || ':' || replies.reply_id),
  dismissed_by = (SELECT json_extract(c.value, '$.moderator') FROM checkpoints c
                  WHERE c.name = 'dismissed:' || replies.platform || ':' || replies.reply_id),
  dismiss_reason = (SELECT json_extract(c.value, '$.reason') FROM checkpoints c
                    WHERE c.name = 'dismissed:' || replies.platform || ':' || replies.reply_id)
WHERE reply_id IS NOT NULL AND EXISTS (SELECT 1 FROM checkpoints c
  WHERE c.name = 'dismissed:' || replies.platform || ':' || replies.reply_id AND json_valid(c.value));
DELETE FROM checkpoints WHERE name LIKE 'dismissed:%' AND EXISTS (SELECT 1 FROM replies r
  WHERE 'dismissed:' || r.platform || ':' || r.reply_id = checkpoints.name AND r.dismissed_at IS NOT NULL);
"""

MIGRATIONS: tuple[str, ...] = (V1_INITIAL, V2_CACHE_POST_LINK, V3_REPLY_DISMISSALS)


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
        if before > len(migrations):
            raise StoreError(
                f"The database has schema version {before}, newer than this program knows ({len(migrations)}); "
                "upgrade the bot or use another storage.path."
            )
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
