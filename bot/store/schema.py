"""The schema, defined once for both backends as an ordered list of migration steps (see ddl.py for the types).

STEPS[i] takes a database from version i to i+1. Never edit a released step: append a new one. MIGRATIONS and
PG_MIGRATIONS are the same steps rendered to SQLite and PostgreSQL scripts; each backend applies the pending ones
in ONE transaction and records the version (SQLite: PRAGMA user_version; PostgreSQL: the schema_migrations table).

Times are stored as ISO-8601 UTC text with microseconds, so they sort as text. Text columns that hold what people
wrote (posts.text, verdicts.quote/reason, reviews.payload, cp_cache.claim_text, summaries.summary) are the ones
the privacy code scrubs; none of them is indexed, so no index page keeps a copy.
"""

from __future__ import annotations

from bot.errors import StoreError
from bot.store.ddl import AddColumn, Col, CreateIndex, CreateTable, MoveData, Op, Table, render, text

_ORDER = Col("rowid", "rowid")  # insertion order (SQLite's hidden rowid; an identity column on PostgreSQL)

_V1_TABLES = (
    Table("posts", (
        text("platform"), text("post_id"), text("thread_id"), text("channel_id", "''"), text("guild_id", "''"),
        text("author_id", "''"), text("author_name", null=True), Col("author_is_bot", "int", True, "0"),
        text("parent_id", null=True), text("url", "''"), text("text", null=True), text("created_at"),
        text("edited_at", null=True), Col("deleted", "int", True, "0"), _ORDER,
    ), key=("platform", "post_id")),
    Table("threads", (
        text("platform"), text("thread_id"), text("title", "''"), text("channel_id", "''"), text("guild_id", "''"),
        text("url", "''"), text("updated_at"),
    ), key=("platform", "thread_id")),
    Table("verdicts", (
        text("platform"), text("post_id"), text("label"), Col("score", "real", True), text("engine"),
        text("prefilter"), text("quote", "''"), text("reason", "''"), text("recorded_at"),
    ), key=("platform", "post_id")),
    Table("replies", (
        text("platform"), text("post_id"), text("thread_id"), text("guild_id", "''"), text("kind", "'reply'"),
        Col("status", "text", True, check="status IN ('pending', 'sent')"), text("reply_id", null=True),
        text("text", null=True), text("citations", null=True), text("claimed_at"), text("sent_at", null=True),
    ), key=("platform", "post_id")),
    Table("summaries", (
        text("platform"), text("thread_id"), text("summary"), text("covered_until", "''"),
        text("content_hash", "''"), Col("stale", "int", True, "0"), text("updated_at"),
    ), key=("platform", "thread_id")),
    Table("votes", (
        text("platform"), text("reply_id"), text("user_id"), Col("value", "int", True, check="value IN (-1, 1)"),
        text("updated_at"),
    ), key=("platform", "reply_id", "user_id")),
    Table("channel_config", (
        text("guild_id"), text("channel_id"), text("key"), text("value"), text("updated_at"),
    ), key=("guild_id", "channel_id", "key")),
    Table("watched", (text("guild_id"), text("channel_id"), text("added_at")), key=("guild_id", "channel_id")),
    Table("optouts", (text("platform"), text("user_id"), text("at")), key=("platform", "user_id")),
    Table("checkpoints", (text("name", primary=True), text("value"), text("updated_at"))),
    Table("reviews", (
        Col("id", "serial"), text("platform"), text("post_id"), text("payload"),
        Col("status", "text", True, "'pending'", check="status IN ('pending', 'approved', 'rejected')"),
        text("moderator", null=True), text("created_at"), text("decided_at", null=True),
    ), unique=("platform", "post_id")),
    Table("cp_cache", (
        text("claim_key", primary=True), text("claim_text"), text("counterpoint"), text("created_at"), _ORDER,
    )),
    Table("sources", (text("id", primary=True), text("source"), text("added_by"), text("added_at"))),
)  # fmt: skip

V1_INITIAL: tuple[Op, ...] = (
    *(CreateTable(t) for t in _V1_TABLES),
    CreateIndex("posts_thread", "posts", ("platform", "thread_id", "created_at")),
    CreateIndex("posts_author", "posts", ("platform", "author_id")),
    CreateIndex("posts_created", "posts", ("created_at",)),
    CreateIndex("verdicts_recorded", "verdicts", ("recorded_at",)),
    CreateIndex("replies_thread", "replies", ("platform", "thread_id", "claimed_at")),
    CreateIndex("replies_guild", "replies", ("platform", "guild_id", "claimed_at")),
    CreateIndex("replies_reply", "replies", ("platform", "reply_id")),
    CreateIndex("votes_user", "votes", ("platform", "user_id")),
    CreateIndex("reviews_status", "reviews", ("status", "id")),
)

# v2: a cached counterpoint remembers the post it was made for, so deleting that post (or forgetting its author)
# removes the cached claim text by reference, not only by matching the text.
V2_CACHE_POST_LINK: tuple[Op, ...] = (
    AddColumn("cp_cache", text("platform", null=True)),
    AddColumn("cp_cache", text("post_id", null=True)),
    CreateIndex("cp_cache_post", "cp_cache", ("platform", "post_id")),
    CreateIndex("cp_cache_created", "cp_cache", ("created_at",)),
    CreateIndex("reviews_decided", "reviews", ("decided_at",)),
)

# v3: a moderator's dismissal of a sent reply is part of the reply (who, why, when), so stats and the digest can
# count it. SQLite files from before kept dismissals as checkpoints named dismissed:<platform>:<reply_id> (the
# checkpoint's updated_at is the moment, in the store's time format): they are carried over and removed. No
# PostgreSQL database predates v3 (PostgreSQL support began with this layout), so there is nothing to carry there.
_DISMISSAL = "c.name = 'dismissed:' || replies.platform || ':' || replies.reply_id"
V3_REPLY_DISMISSALS: tuple[Op, ...] = (
    AddColumn("replies", text("dismissed_at", null=True)),
    AddColumn("replies", text("dismissed_by", null=True)),
    AddColumn("replies", text("dismiss_reason", null=True)),
    CreateIndex("replies_dismissed", "replies", ("dismissed_at",)),
    MoveData(
        sqlite=(
            f"""UPDATE replies SET
  dismissed_at = (SELECT c.updated_at FROM checkpoints c WHERE {_DISMISSAL}),
  dismissed_by = (SELECT json_extract(c.value, '$.moderator') FROM checkpoints c WHERE {_DISMISSAL}),
  dismiss_reason = (SELECT json_extract(c.value, '$.reason') FROM checkpoints c WHERE {_DISMISSAL})
WHERE reply_id IS NOT NULL AND EXISTS (SELECT 1 FROM checkpoints c WHERE {_DISMISSAL} AND json_valid(c.value))""",
            """DELETE FROM checkpoints WHERE name LIKE 'dismissed:%' AND EXISTS (SELECT 1 FROM replies r
  WHERE 'dismissed:' || r.platform || ':' || r.reply_id = checkpoints.name AND r.dismissed_at IS NOT NULL)""",
        ),
        postgresql=(),
    ),
)

# v4: limits and traceable copies. `rate_events` is the sliding-window counter behind every hourly limit (one row
# per counted event; it lives in the store so the limits survive restarts and hold across processes). A review
# item knows its thread, scope (guild id, or r/<sub>) and author, so posts of one thread within a window join one
# item (`review_posts`). `bot_messages` remembers which of the bot's own messages (moderator channel) quote which
# post, so forgetting an author or editing a post can find and rewrite them.
V4_LIMITS_AND_COPIES: tuple[Op, ...] = (
    CreateTable(Table("rate_events", (text("name"), text("subject"), text("at")))),
    CreateIndex("rate_events_subject", "rate_events", ("name", "subject", "at")),
    CreateIndex("rate_events_at", "rate_events", ("at",)),
    AddColumn("reviews", text("thread_id", null=True)),
    AddColumn("reviews", text("scope", null=True)),
    AddColumn("reviews", text("author_id", null=True)),
    CreateIndex("reviews_thread", "reviews", ("platform", "thread_id", "status", "created_at")),
    CreateTable(Table("review_posts", (
        Col("review_id", "int", True), text("platform"), text("post_id"), text("added_at"),
    ), key=("review_id", "platform", "post_id"))),
    CreateIndex("review_posts_post", "review_posts", ("platform", "post_id")),
    CreateTable(Table("bot_messages", (
        text("platform"), text("message_id"), text("channel_id"), text("post_platform"), text("post_id"),
        Col("review_id", "int", False), text("kind"), text("at"),
    ), key=("platform", "message_id", "post_platform", "post_id"))),
    CreateIndex("bot_messages_post", "bot_messages", ("post_platform", "post_id")),
    CreateIndex("bot_messages_review", "bot_messages", ("review_id",)),
)  # fmt: skip

# v5: the repeated-claim cache is per server or subreddit (`scope`, the pipeline's scope key), and each entry knows
# a digest of its counterpoint's text (`cp_hash`), so dismissing, rejecting or down-voting a reply with that text
# drops the entry. `fallbacks` counts every time the bot fell back from the model (counterpoint to the cited
# template, summary to the extractive one) and why: counts for /stats, no text of anyone's.
V5_SCOPED_CACHE_AND_FALLBACKS: tuple[Op, ...] = (
    AddColumn("cp_cache", text("scope", "''")),
    AddColumn("cp_cache", text("cp_hash", "''")),
    CreateIndex("cp_cache_scope", "cp_cache", ("scope", "created_at")),
    CreateIndex("cp_cache_hash", "cp_cache", ("cp_hash",)),
    CreateTable(Table("fallbacks", (text("kind"), text("reason"), text("scope", "''"), text("at")))),
    CreateIndex("fallbacks_at", "fallbacks", ("at", "scope")),
)

STEPS: tuple[tuple[Op, ...], ...] = (
    V1_INITIAL,
    V2_CACHE_POST_LINK,
    V3_REPLY_DISMISSALS,
    V4_LIMITS_AND_COPIES,
    V5_SCOPED_CACHE_AND_FALLBACKS,
)

MIGRATIONS: tuple[str, ...] = tuple(render(step, "sqlite") for step in STEPS)
PG_MIGRATIONS: tuple[str, ...] = tuple(render(step, "postgresql") for step in STEPS)

# every table with rows, for VACUUM and the tests
TABLES: tuple[str, ...] = tuple(op.table.name for step in STEPS for op in step if isinstance(op, CreateTable))


def refuse_newer(version: int, known: int) -> None:
    """Both backends refuse a database that a newer program has migrated: its tables may mean other things."""
    if version > known:
        raise StoreError(
            f"The database has schema version {version}, newer than this program knows ({known}); "
            "upgrade the bot or use another storage.path."
        )
