"""/sources and /reddit through the real discord.py against FakeDiscord (and the real praw against FakeReddit):
a moderator's source is cited in the next reply, members are refused, a re-enabled subreddit is polled again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.app import build_resources
from bot.reddit.client import RedditFrontDoor
from bot.settings import Settings, load_settings
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    reply_sent,
    restore_discord_globals_fixture,
    running,
    unused_port,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_reddit import FakeReddit
from tests.fakes.reddit_kit import Recorder, _no_retry_sleep, cycles  # noqa: F401 (fixture)

URL = "https://example.org/eu-ai-race-2026"
SOURCE = {
    "id": "mod-race-report",
    "url": URL,
    "title": "Why the AI race story sells",
    "publisher": "Example Institute",
    "date": "2026-03-01",
    "themes": "race_rhetoric_lobbying",
    "facts": "Zorblax Institute found that 12 of 20 lobbying letters named China as the reason to loosen AI rules.",
}


def sub(name: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "type": 1, "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]}]


async def answer(fake: FakeDiscord, iid: str) -> str:
    return str((await fake.wait_for(lambda: fake.callback(iid), what="the answer"))["data"]["content"])


async def test_a_source_added_by_a_moderator_is_cited_in_the_next_reply(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        names = {c["name"] for c in fake.sent("PUT", r"/applications/\d+/commands$")[-1].body}
        assert {"sources", "reddit"} <= names

        refused = await answer(fake, await fake.slash("sources", sub("add", SOURCE), user=fake.bob))
        assert "for moderators" in refused
        assert await bot.resources.store.list_sources() == []

        http = await answer(
            fake,
            await fake.slash(
                "sources", sub("add", {**SOURCE, "url": "http://example.org/x"}), user=fake.moderator, moderator=True
            ),
        )
        assert "url" in http and "https" in http and "Traceback" not in http
        unknown = await answer(
            fake,
            await fake.slash(
                "sources", sub("add", {**SOURCE, "themes": "space_race"}), user=fake.moderator, moderator=True
            ),
        )
        assert "themes" in unknown and "space_race" in unknown

        added = await answer(fake, await fake.slash("sources", sub("add", SOURCE), user=fake.moderator, moderator=True))
        assert added.startswith("Added `mod-race-report`")

        post = await fake.user_message(fake.general, FRAMING)
        reply = await fake.wait_request("POST", rf"/channels/{fake.general}/messages$")
        await reply_sent(bot, post)
        assert URL in reply.body["embeds"][0]["fields"][0]["value"]
        assert "12 of 20 lobbying letters" in reply.body["embeds"][0]["description"]

        listed = await answer(fake, await fake.slash("sources", sub("list", {}), user=fake.moderator, moderator=True))
        assert "mod-race-report" in listed and "race_rhetoric_lobbying" in listed
        shown = await answer(
            fake,
            await fake.slash("sources", sub("show", {"id": "mod-race-report"}), user=fake.moderator, moderator=True),
        )
        assert URL in shown and "12 of 20" in shown
        shipped = await answer(
            fake,
            await fake.slash("sources", sub("remove", {"id": "qwen3-readme"}), user=fake.moderator, moderator=True),
        )
        assert "read-only" in shipped and "qwen3-readme" in bot.resources.composer.library

        digest = await fake.slash("modsummary", user=fake.moderator, moderator=True)
        piece = (await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{digest}$")).body
        assert "Sources added by moderators" in piece["content"] and "mod-race-report" in piece["content"]

        gone = await answer(
            fake,
            await fake.slash("sources", sub("remove", {"id": "mod-race-report"}), user=fake.moderator, moderator=True),
        )
        assert gone.startswith("Removed") and "mod-race-report" not in bot.resources.composer.library_for(
            str(bot.guilds[0].id)
        )


async def test_a_source_is_cited_only_in_the_server_that_added_it(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        await answer(fake, await fake.slash("sources", sub("add", SOURCE), user=fake.moderator, moderator=True))
        here = str(bot.guilds[0].id)
        composer = bot.resources.composer
        assert "mod-race-report" in composer.library_for(here)
        assert "mod-race-report" not in composer.library_for("another-server")
        elsewhere = await composer.compose(FRAMING, guild_id="another-server")
        assert URL not in {c.url for c in elsewhere.citations}


def both_settings(tmp_path: Path, fake: FakeDiscord, reddit: FakeReddit) -> Settings:
    base = discord_settings(tmp_path, fake)
    return load_settings(
        None,
        llm={"base_url": f"http://127.0.0.1:{unused_port()}/v1", "connect_timeout": 0.5, "max_retries": 0},
        storage={"path": str(tmp_path / "data" / "bot.sqlite3"), "retention_days": 0},
        framing={"engine": "lexical"},
        discord=base.discord.model_dump(),
        reddit={
            "subreddits": ["ai", "ml"],
            "oauth_url": reddit.base_url,
            "reddit_url": reddit.base_url,
            "poll_seconds": 0.05,
            "mode": "queue",
        },
        REDDIT_CLIENT_ID="client-id",
        REDDIT_CLIENT_SECRET="client-secret",
        REDDIT_USERNAME=reddit.bot_name,
        REDDIT_PASSWORD="hunter2",
    )


@contextlib.asynccontextmanager
async def discord_and_reddit(settings: Settings) -> AsyncIterator[tuple[Any, RedditFrontDoor, Recorder]]:
    rec = Recorder()
    async with build_resources(settings) as resources:
        door = RedditFrontDoor(resources, notify=rec.notify, on_queued=rec.on_queued)
        stop = asyncio.Event()
        task = asyncio.create_task(door.run(stop))
        try:
            async with running(resources, reddit=door) as bot:
                yield bot, door, rec
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await door.aclose()


async def test_reddit_status_and_a_re_enabled_subreddit_is_polled_again(tmp_path, fake: FakeDiscord):
    with FakeReddit() as reddit:
        reddit.forbidden.add("ai")
        settings = both_settings(tmp_path, fake, reddit)
        async with discord_and_reddit(settings) as (_bot, _door, rec):
            await eventually(lambda: _async(rec.notices), what="the 403 notice")
            status = await answer(
                fake, await fake.slash("reddit", sub("status", {}), user=fake.moderator, moderator=True)
            )
            assert "r/ai: **off**" in status and "403" in status and "last refused <t:" in status
            assert "r/ml: on" in status
            refused = await answer(fake, await fake.slash("reddit", sub("enable", {"subreddit": "ai"}), user=fake.bob))
            assert "for moderators" in refused

        # a restart: still off, with the reason and time of the 403
        async with discord_and_reddit(settings) as (_bot, door, rec):
            await cycles(door, 3)
            asked = reddit.count("GET", "/r/ai/")
            status = await answer(
                fake, await fake.slash("reddit", sub("status", {}), user=fake.moderator, moderator=True)
            )
            assert "r/ai: **off**" in status and "last refused" in status
            await cycles(door, 2)
            assert reddit.count("GET", "/r/ai/") == asked  # not polled while off

            reddit.forbidden.clear()
            unknown = await answer(
                fake,
                await fake.slash("reddit", sub("enable", {"subreddit": "nope"}), user=fake.moderator, moderator=True),
            )
            assert "not one of the watched subreddits" in unknown
            on = await answer(
                fake,
                await fake.slash("reddit", sub("enable", {"subreddit": "r/ai"}), user=fake.moderator, moderator=True),
            )
            assert on.startswith("r/ai is on again")
            await eventually(lambda: _async(reddit.count("GET", "/r/ai/") > asked), what="r/ai polled again")
            status = await answer(
                fake, await fake.slash("reddit", sub("status", {}), user=fake.moderator, moderator=True)
            )
            assert "r/ai: on" in status and "last refused" in status  # the last 403 is still shown

            off = await answer(
                fake,
                await fake.slash(
                    "reddit", sub("disable", {"subreddit": "ml", "reason": "spam"}), user=fake.moderator, moderator=True
                ),
            )
            assert off.startswith("r/ml is off")
            await cycles(door, 2)
            asked_ml = reddit.count("GET", "/r/ml/")
            await cycles(door, 2)
            assert reddit.count("GET", "/r/ml/") == asked_ml
            assert len(rec.notices) == 0  # a moderator's switch is not announced as a refusal


async def _async(value: Any) -> Any:
    return value
