"""The live paths under issue 15's rules: /summarize's history read stores in one transaction and asks the
opt-out table once; the one speech rule, seen from discord.py's Message objects; live /summarize of a real-shaped
thread (starter, system messages, a forward) through the fake Discord, and "Summarize thread" from the parent
channel's message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord
import pytest_asyncio

import bot.store.posts as posts_module
from bot.models import Post
from bot.store import Store
from bot.summary.exports import speech_kind
from tests.fakes.discord_kit import (  # noqa: F401  (fixtures)
    FRAMING,
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    judged,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.store_kit import Clock, db_path, post


@pytest_asyncio.fixture
async def store(tmp_path: Any) -> AsyncIterator[Store]:
    async with Store.open(db_path(tmp_path), clock=Clock()) as s:
        yield s


async def test_add_posts_is_one_transaction_and_one_opt_out_query(store: Store, monkeypatch: Any) -> None:
    await store.opt_out("discord", "carol")
    writes, queries = [], []
    real_write, real_among = store._write, posts_module.opted_out_among

    @asynccontextmanager
    async def counted_write() -> AsyncIterator[Any]:
        writes.append(1)
        async with real_write() as db:
            yield db

    async def counted_among(db: Any, platform: str, ids: Any) -> set[str]:
        queries.append(sorted(ids))
        return await real_among(db, platform, ids)

    async def never(*_: Any) -> bool:
        raise AssertionError("asked the opt-out table once per author")

    monkeypatch.setattr(store, "_write", counted_write)
    monkeypatch.setattr(posts_module, "opted_out_among", counted_among)
    monkeypatch.setattr(posts_module, "is_opted_out", never)
    batch = [post(f"p{i}", f"message {i}", author=("alice", "bob", "carol")[i % 3]) for i in range(300)]
    opted = await store.add_posts(batch)
    assert opted == {("discord", "carol")}
    assert writes == [1] and queries == [["alice", "bob", "carol"]]
    assert await store.get_post("discord", "p0") is not None  # alice
    assert await store.get_post("discord", "p2") is None  # carol opted out: not stored
    assert await store.add_posts(batch) == {("discord", "carol")}  # again: nothing doubled, no error
    assert await store.add_posts([]) == set()


def test_one_rule_for_numbers_names_and_discord_py_types() -> None:
    for value in (0, 19, 20, 23, "Default", "Reply", "19", None, discord.MessageType.reply):
        assert speech_kind(value) == "speech", value
    for value in (21, "ThreadStarterMessage", discord.MessageType.thread_starter_message):
        assert speech_kind(value) == "starter", value
    system = (1, 3, 4, 6, 7, 8, 9, 10, 11, 18, 46, "GuildMemberJoin", "Call", "ChannelPinnedMessage",
              "ThreadCreated", "ChannelNameChange", "GuildBoost", "8", True, 1.5, discord.MessageType.new_member,
              discord.MessageType.premium_guild_subscription, discord.MessageType.thread_created)  # fmt: skip
    for value in system:
        assert speech_kind(value) == "system", value


# ---- live /summarize of a real-shaped thread, through the fake Discord -------------------------------------------


async def _real_shaped_thread(fake: FakeDiscord) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """A question in #general, a thread started from it (same id, THREAD_CREATE, type 21 starter), then in the
    thread: answers with mentions, system notices of each kind, and a forward of a message from #mods."""
    question = fake.message_payload(fake.general, fake.alice, QUESTION)
    tid = await fake.start_thread(question, "which-model")
    fake.message_payload(tid, fake.bob, f"<@{fake.alice['id']}> Qwen 2.5 at Q4_K_M fits a 3090 with room to spare.")
    fake.system_payload(tid, "join", fake.moderator)
    fake.system_payload(tid, "boost", fake.bob, "3")
    fake.system_payload(tid, "call", fake.alice)
    fake.system_payload(tid, "rename", fake.alice, "which-model-final")
    pinned = fake.message_payload(tid, fake.alice, "Summary so far: Qwen for chat, Gemma for translation.")
    fake.system_payload(tid, "pin", fake.alice, reference=(tid, int(pinned["id"])))
    fake.system_payload(tid, "thread_created", fake.bob, "side-quest", reference=(fake.snowflake(), None))
    source = fake.message_payload(fake.mods, fake.moderator, "Benchmarks from last week: Gemma 3 wins on German.")
    forward = fake.forward_payload(tid, fake.bob, source)
    return question, tid, forward


QUESTION = "Which local model should we standardise on for the help desk?"
SYSTEM_TEXT = ("which-model-final", "side-quest")


async def _stored(bot: Any, tid: int) -> dict[str, Post]:
    return {p.post_id: p for p in await bot.resources.store.thread_posts("discord", str(tid))}


async def test_live_summarize_of_a_real_shaped_thread(tmp_path: Any, fake: FakeDiscord) -> None:
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        _, tid, forward = await _real_shaped_thread(fake)
        await eventually(lambda: _has_thread(bot, tid), what="the THREAD_CREATE")
        iid = await fake.slash("summarize", channel_id=tid)
        follow = await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$")
        text = follow.body["content"]
        assert "Thread summary" in text and "<@" not in text
        assert not any(s in text for s in SYSTEM_TEXT) and "\n• Bob: 3" not in text
        posts = await _stored(bot, tid)
        starter = posts[str(tid)]  # the type 21 message shares the thread's id, and carries the question
        assert starter.text == QUESTION and starter.parent_id is None
        assert starter.author_name == "Alice"  # REST history carries no member: the global name, not the nick
        assert {p.text for p in posts.values()} >= {QUESTION}
        assert not any(p.text in ("3", "", "which-model-final", "side-quest") for p in posts.values())
        assert posts[forward["id"]].text == "> Benchmarks from last week: Gemma 3 wins on German."
        assert posts[forward["id"]].parent_id is None  # a forward is not a reply
        bobs = next(p for p in posts.values() if p.text.startswith("@"))
        assert bobs.text.startswith("@Alice ")  # REST history: the global name (no member in REST mentions)
        assert len(posts) == 4  # starter, Bob's answer, the pinned summary, the forward


async def test_summarize_thread_from_the_parent_channels_message(tmp_path: Any, fake: FakeDiscord) -> None:
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        question, tid, _ = await _real_shaped_thread(fake)
        await eventually(lambda: _has_thread(bot, tid), what="the THREAD_CREATE")
        iid = await fake.context_menu("Summarize thread", question)
        follow = await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$")
        assert f"/{tid}/" in follow.body["content"]  # jump links into the thread, not #general
        assert any(r.method == "GET" and r.path.endswith(f"/channels/{tid}/messages") for r in fake.requests)
        assert str(tid) in await _stored(bot, tid)


async def test_the_watcher_judges_speech_only_and_renders_mentions(tmp_path: Any, fake: FakeDiscord) -> None:
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        join = fake.system_payload(fake.general, "join", fake.bob)
        await fake.redeliver(join)
        boost = fake.system_payload(fake.general, "boost", fake.bob, "3")
        await fake.redeliver(boost)
        said = await fake.user_message(fake.general, f"<@{fake.bob['id']}> {FRAMING}")
        await judged(bot, said)
        stored = await bot.resources.store.get_post("discord", said["id"])
        assert stored is not None and stored.text.startswith("@Bob ") and stored.author_name == "Ally"
        for notice in (join, boost):
            assert await bot.resources.store.get_post("discord", notice["id"]) is None


async def _has_thread(bot: Any, tid: int) -> bool:
    return any(g.get_thread(tid) is not None for g in bot.guilds)
