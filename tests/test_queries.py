"""No query per message on the hot paths, counted at the store's connection wrapper (every statement the feature
code runs goes through SqliteTx.execute / fetch): the watcher reads the /watch channels once and again only after
/watch changes them; /summarize's history is written in one transaction with one opt-out query; the digest's
links are one query, not one or two per cited post."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.models import Post
from bot.store import Store
from bot.store.sqlite import conn as sqlite_conn
from bot.store.sqlite.store import SqliteStore
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORDINARY = "llama.cpp runs out of VRAM at 8k context on my 3090, any ideas?"


class Counted:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0

    def matching(self, fragment: str) -> int:
        return sum(fragment in s for s in self.statements)


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Counted:
    counted = Counted()
    execute, fetch = sqlite_conn.SqliteTx.execute, sqlite_conn.SqliteTx.fetch
    write, write_small = SqliteStore._write, SqliteStore._write_small

    async def counting_execute(self: Any, sql: str, *args: Any) -> int:
        counted.statements.append(sql)
        return await execute(self, sql, *args)

    async def counting_fetch(self: Any, sql: str, *args: Any) -> list[Any]:
        counted.statements.append(sql)
        return await fetch(self, sql, *args)

    def counting_write(self: Any) -> Any:
        counted.transactions += 1
        return write(self)

    def counting_write_small(self: Any) -> Any:
        counted.transactions += 1
        return write_small(self)

    monkeypatch.setattr(sqlite_conn.SqliteTx, "execute", counting_execute)
    monkeypatch.setattr(sqlite_conn.SqliteTx, "fetch", counting_fetch)
    monkeypatch.setattr(SqliteStore, "_write", counting_write)
    monkeypatch.setattr(SqliteStore, "_write_small", counting_write_small)
    return counted


def stored(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:  # outside the counted store
        return int(conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0])


async def test_watcher_asks_for_watched_channels_once_until_watch_changes_them(
    tmp_path, fake: FakeDiscord, queries: Counted
):
    settings = discord_settings(tmp_path, fake, watch_channels=[])
    db = Path(settings.storage.path)
    add = [{"name": "add", "type": 1, "options": [{"name": "channel", "type": 7, "value": str(fake.general)}]}]
    remove = [{"name": "remove", "type": 1, "options": [{"name": "channel", "type": 7, "value": str(fake.general)}]}]
    async with bot_with(settings):
        for i in range(5):
            await fake.user_message(fake.general, f"{ORDINARY} (before /watch {i})")
        await eventually(lambda: _async(queries.matching("FROM watched") >= 1), what="the first watch lookup")
        done = await fake.slash("watch", add, user=fake.moderator, moderator=True)
        await fake.wait_for(lambda: fake.callback(done), what="/watch add")
        before, tx_before = len(queries.statements), queries.transactions
        n = 40
        for i in range(n):
            await fake.user_message(fake.general, f"{ORDINARY} ({i})", author=fake.bob)
        await eventually(lambda: _async(stored(db) == n), timeout=30, what="every watched message stored")
        await eventually(lambda: _async(queries.matching("INSERT INTO verdicts") >= n), timeout=30, what="judged")
        per_message = Counter(s.split(" WHERE")[0][:60] for s in queries.statements[before:])
        # one lookup before /watch add (messages ignored), one after it; none per message
        assert queries.matching("FROM watched") == 2, per_message
        # per ordinary message: the channel's settings, the post (with its opt-out check), the verdict (with the
        # post's state): six statements in two write transactions; plus, once, the watch lookup and the thread's name
        assert len(queries.statements) - before <= 6 * n + 2, per_message
        assert queries.transactions - tx_before <= 2 * n + 1, per_message
        done = await fake.slash("watch", remove, user=fake.moderator, moderator=True)
        await fake.wait_for(lambda: fake.callback(done), what="/watch remove")
        await fake.user_message(fake.general, f"{ORDINARY} (after /watch remove)")
        await eventually(lambda: _async(queries.matching("FROM watched") == 3), what="the lookup after remove")
        assert stored(db) == n  # not watched any more


async def _async(value: Any) -> Any:
    return value


def history(n: int, authors: int) -> list[Post]:
    return [
        Post("discord", str(5000 + i), "t1", f"u{i % authors}", f"user{i % authors}", ORDINARY,
             T0 + timedelta(seconds=i), channel_id="c1", guild_id="g1",
             url=f"https://discord.com/channels/g1/c1/{5000 + i}")
        for i in range(n)
    ]  # fmt: skip


async def test_summarize_history_is_one_transaction_with_one_opt_out_query(tmp_path, queries: Counted):
    async with Store.open(tmp_path / "s.sqlite3") as store:
        await store.opt_out("discord", "u3")
        queries.statements.clear()
        queries.transactions = 0
        opted = await store.add_posts(history(1000, authors=50))
        assert opted == {("discord", "u3")}
        assert queries.transactions == 1 and queries.matching("FROM optouts") == 1


async def test_digest_links_are_one_query(tmp_path, queries: Counted):
    async with Store.open(tmp_path / "s.sqlite3") as store:
        posts = history(120, authors=7)
        await store.add_posts(posts)
        queries.statements.clear()
        links = await store.post_urls([p.post_id for p in posts[:80]] + ["missing"])
        assert len(queries.statements) == 1
        assert links == {p.post_id: p.url for p in posts[:80]}


async def test_the_wal_is_checkpointed_in_the_background_not_inside_a_commit(tmp_path):
    """The writer never checkpoints inside a commit (wal_autocheckpoint = 0); the store checkpoints every
    CHECKPOINT_EVERY commits before the next write, so the WAL stays bounded (about 6 frames per add_post: without
    checkpoints 1,500 posts leave ~8,600 frames)."""
    from bot.store.sqlite.store import CHECKPOINT_EVERY

    path = tmp_path / "s.sqlite3"
    async with Store.open(path) as store:
        assert (await store._writer.execute_fetchall("PRAGMA wal_autocheckpoint"))[0][0] == 0
        for post in history(3 * CHECKPOINT_EVERY, authors=9):
            await store.add_post(post)
        frames = (await store._reader.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)"))[0][1]
        assert frames < 8 * CHECKPOINT_EVERY  # at most what one interval writes: restarted along the way
        assert stored(path) == 3 * CHECKPOINT_EVERY
