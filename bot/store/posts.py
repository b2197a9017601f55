"""Posts, threads and verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.models import Platform, Post, Thread, Verdict
from bot.serialize import prefilter_to_dict, verdict_from_dict
from bot.store.base import NO_LIMIT, Row, StoreBase, Tx, db_time
from bot.text import jsonsafe

_POST_COLUMNS = (
    "platform, post_id, thread_id, channel_id, guild_id, author_id, author_name, author_is_bot, parent_id, url, "
    "text, created_at"
)


def row_to_post(row: Row) -> Post:
    return Post(
        platform=row["platform"],
        post_id=row["post_id"],
        thread_id=row["thread_id"],
        author_id=row["author_id"],
        author_name=row["author_name"] or "",
        text=row["text"] or "",
        created_at=datetime.fromisoformat(row["created_at"]),
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        parent_id=row["parent_id"],
        author_is_bot=bool(row["author_is_bot"]),
        url=row["url"],
    )


async def is_opted_out(db: Tx, platform: str, user_id: str) -> bool:
    return bool(await db.fetch("SELECT 1 FROM optouts WHERE platform = $1 AND user_id = $2", platform, user_id))


async def post_withheld(db: Tx, platform: str, post_id: str) -> bool:
    """True when a known post must not be acted on or copied any more: deleted, text purged, author opted out."""
    rows = await db.fetch(
        "SELECT deleted, text IS NULL AS gone, author_id FROM posts WHERE platform = $1 AND post_id = $2",
        platform,
        post_id,
    )
    if not rows:
        return False
    row = rows[0]
    return bool(row["deleted"] or row["gone"]) or await is_opted_out(db, platform, row["author_id"])


async def mark_stale(db: Tx, platform: str, thread_id: str, created_at: str) -> None:
    """A stored summary covers a post when the post is not newer than the summary's covered_until post (an unknown
    covered_until post counts as covering everything: when in doubt, regenerate)."""
    await db.execute(
        """UPDATE summaries SET stale = 1
           WHERE platform = $1 AND thread_id = $2 AND stale = 0
             AND COALESCE((SELECT c.created_at FROM posts c
                           WHERE c.platform = summaries.platform AND c.post_id = summaries.covered_until),
                          '9999') >= $3""",
        platform,
        thread_id,
        created_at,
    )


async def opted_out_among(db: Tx, platform: str, user_ids: Iterable[str]) -> set[str]:
    """Which of these people opted out: one query per 500 of them, not one each."""
    ids = sorted(set(user_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):  # well under either database's limit on query parameters
        chunk = ids[start : start + 500]
        marks = ", ".join(f"${n}" for n in range(2, len(chunk) + 2))
        rows = await db.fetch(
            f"SELECT user_id FROM optouts WHERE platform = $1 AND user_id IN ({marks})", platform, *chunk
        )
        found |= {str(r["user_id"]) for r in rows}
    return found


_INSERT_POST = (
    f"INSERT INTO posts ({_POST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
    "ON CONFLICT (platform, post_id) DO NOTHING"
)


def _post_params(post: Post) -> tuple[object, ...]:
    return (
        post.platform,
        post.post_id,
        post.thread_id,
        post.channel_id,
        post.guild_id,
        post.author_id,
        post.author_name,
        int(post.author_is_bot),
        post.parent_id,
        post.url,
        post.text,
        db_time(post.created_at),
    )


class PostsMixin(StoreBase):
    async def add_post(self, post: Post) -> bool:
        """Store a new post; False when it was already stored (or deleted), or its author opted out."""
        async with self._write_small() as db:
            if await is_opted_out(db, post.platform, post.author_id):
                return False
            return await db.execute(_INSERT_POST, *_post_params(post)) == 1

    async def add_posts(self, posts: Sequence[Post]) -> set[tuple[str, str]]:
        """add_post for many posts (a channel's history read by /summarize) in one transaction, asking the opt-out
        table once per platform for all their authors. Returns the (platform, author_id) pairs that opted out:
        nothing of theirs was stored, and the caller leaves them out too."""
        if not posts:
            return set()
        opted: set[tuple[str, str]] = set()
        async with self._write() as db:
            for platform in sorted({p.platform for p in posts}):
                authors = {p.author_id for p in posts if p.platform == platform}
                opted |= {(platform, a) for a in await opted_out_among(db, platform, authors)}
            for post in posts:
                if (post.platform, post.author_id) not in opted:
                    await db.execute(_INSERT_POST, *_post_params(post))
        return opted

    async def get_post(self, platform: str, post_id: str) -> Post | None:
        """The stored post, or None when unknown or deleted (text "" when purged by retention)."""
        row = await self._one(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE platform = $1 AND post_id = $2 AND deleted = 0",
            platform,
            post_id,
        )
        return row_to_post(row) if row else None

    async def post_urls(self, post_ids: Iterable[str]) -> dict[str, str]:
        """Post id -> link of the stored posts among these (Discord's first when both platforms have the id), one
        query per 500 ids: a digest cites dozens of posts and must not ask once per post."""
        ids = sorted(set(post_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
            rows = await self._rows(
                f"SELECT platform, post_id, url FROM posts WHERE post_id IN ({marks}) AND deleted = 0 "
                "AND url IS NOT NULL AND url != '' ORDER BY platform DESC",  # 'reddit' first, 'discord' overwrites
                *chunk,
            )
            out |= {str(r["post_id"]): str(r["url"]) for r in rows}
        return out

    async def thread_posts(
        self, platform: str, thread_id: str, *, after: datetime | None = None, limit: int | None = None
    ) -> list[Post]:
        """Posts of a thread that still have text, oldest first; `after` excludes posts created at or before it,
        `limit` keeps the oldest `limit` of those (page forward with `after=last.created_at`)."""
        rows = await self._rows(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE platform = $1 AND thread_id = $2 AND deleted = 0 "
            "AND text IS NOT NULL AND created_at > $3 ORDER BY created_at, rowid LIMIT $4",
            platform,
            thread_id,
            db_time(after) if after else "",
            NO_LIMIT if limit is None else limit,
        )
        return [row_to_post(r) for r in rows]

    async def upsert_thread(self, thread: Thread) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO threads (platform, thread_id, title, channel_id, guild_id, url, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (platform, thread_id) DO UPDATE SET "
                "title = excluded.title, channel_id = excluded.channel_id, guild_id = excluded.guild_id, "
                "url = excluded.url, updated_at = excluded.updated_at",
                thread.platform,
                thread.thread_id,
                thread.title,
                thread.channel_id,
                thread.guild_id,
                thread.url,
                self._now(),
            )

    async def get_thread(self, platform: str, thread_id: str) -> Thread | None:
        row = await self._one("SELECT * FROM threads WHERE platform = $1 AND thread_id = $2", platform, thread_id)
        return _row_to_thread(row) if row else None

    async def active_threads(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        platform: Platform | None = None,
        guild_id: str | None = None,
        limit: int = 20,
    ) -> list[tuple[Thread, int]]:
        """Threads with posts created in [since, until), busiest first, with that post count (for digests)."""
        rows = await self._rows(
            """SELECT p.platform, p.thread_id, COUNT(*) AS n, MAX(p.created_at) AS last,
                      COALESCE(t.title, '') AS title, COALESCE(t.channel_id, MAX(p.channel_id)) AS channel_id,
                      COALESCE(t.guild_id, MAX(p.guild_id)) AS guild_id, COALESCE(t.url, '') AS url
               FROM posts p LEFT JOIN threads t ON t.platform = p.platform AND t.thread_id = p.thread_id
               WHERE p.deleted = 0 AND p.text IS NOT NULL AND p.created_at >= $1 AND p.created_at < $2
                 AND (CAST($3 AS TEXT) IS NULL OR p.platform = $3) AND (CAST($4 AS TEXT) IS NULL OR p.guild_id = $4)
               GROUP BY p.platform, p.thread_id, t.title, t.channel_id, t.guild_id, t.url
               ORDER BY n DESC, last DESC LIMIT $5""",
            db_time(since),
            db_time(until) if until else "9999",
            platform,
            guild_id,
            limit,
        )
        return [(_row_to_thread(r), int(r["n"])) for r in rows]

    async def record_verdict(self, platform: str, post_id: str, verdict: Verdict) -> None:
        """Upsert the verdict for a post. The quote and reason (copies of the post's words) are dropped when the
        post was deleted or its author opted out in the meantime."""
        async with self._write_small() as db:
            withheld = await post_withheld(db, platform, post_id)
            await db.execute(
                "INSERT INTO verdicts (platform, post_id, label, score, engine, prefilter, quote, reason, recorded_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (platform, post_id) DO UPDATE SET "
                "label = excluded.label, score = excluded.score, engine = excluded.engine, "
                "prefilter = excluded.prefilter, quote = excluded.quote, reason = excluded.reason, "
                "recorded_at = excluded.recorded_at",
                platform,
                post_id,
                verdict.label,
                verdict.score,
                verdict.engine,
                json.dumps(prefilter_to_dict(verdict.prefilter)),
                "" if withheld else verdict.quote,
                "" if withheld else verdict.reason,
                self._now(),
            )

    async def get_verdict(self, platform: str, post_id: str) -> Verdict | None:
        row = await self._one("SELECT * FROM verdicts WHERE platform = $1 AND post_id = $2", platform, post_id)
        if row is None:
            return None
        return verdict_from_dict({**dict(row), "prefilter": jsonsafe.loads(row["prefilter"])})


def _row_to_thread(row: Row) -> Thread:
    return Thread(
        platform=row["platform"],
        thread_id=row["thread_id"],
        title=row["title"],
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        url=row["url"],
    )
