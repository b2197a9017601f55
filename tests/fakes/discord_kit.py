"""Helpers for the Discord tests: settings pointed at a FakeDiscord, and the real bot running against it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio

from bot.app import Resources, build_resources
from bot.discord_bot import CounterpointBot
from bot.settings import Settings, load_settings
from tests.fakes.fake_discord import FakeDiscord

FRAMING = "The US must win the AI race against China before Beijing does, whoever wins controls the future."
FRAMING_2 = "China is going to beat us in the AI arms race unless we stop regulating."
ORDINARY = "I had pasta for lunch today, and the weather is nice."


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def discord_settings(tmp_path: Path, fake: FakeDiscord, **discord: Any) -> Settings:
    """No model (an unused port: detector and composer use their offline engines), a temp database."""
    section = {
        "api_base": fake.api_base, "gateway_url": fake.gateway_url, "mode": "reply",
        "watch_channels": [str(fake.general)], "mod_channel": str(fake.mods), "digest_time": "23:59", **discord,
    }  # fmt: skip
    return load_settings(
        None,
        llm={"base_url": f"http://127.0.0.1:{unused_port()}/v1", "connect_timeout": 0.5, "max_retries": 0},
        storage={"path": str(tmp_path / "data" / "bot.sqlite3"), "retention_days": 0},
        framing={"engine": "lexical"},
        discord=section,
    )


@pytest.fixture(autouse=True, name="restore_discord_globals")
def restore_discord_globals_fixture() -> Any:
    """discord.py keeps the endpoints in class attributes: whatever a test does, put them back."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest_asyncio.fixture(name="fake")
async def fake_discord_fixture() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@contextlib.asynccontextmanager
async def running(resources: Resources, **options: Any) -> AsyncIterator[CounterpointBot]:
    """The real bot connected to the fake, ready (guild received); closed on the way out."""
    bot = CounterpointBot(resources, guild_ready_timeout=0.05, **options)
    task = asyncio.create_task(bot.start("fake-token"))
    try:
        async with asyncio.timeout(10):
            while not bot.is_ready():
                if task.done():
                    task.result()  # raise what went wrong
                    raise RuntimeError("the bot stopped before it was ready")
                await asyncio.sleep(0.02)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)


@contextlib.asynccontextmanager
async def bot_with(settings: Settings, **options: Any) -> AsyncIterator[CounterpointBot]:
    async with build_resources(settings) as resources, running(resources, **options) as bot:
        yield bot


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll an async check until it returns something truthy; fail with `what` after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = await check()
                if result:
                    return result
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


async def judged(bot: CounterpointBot, msg: dict[str, Any]) -> None:
    """The pipeline has judged this message (its verdict is stored)."""
    store = bot.resources.store
    await eventually(lambda: store.get_verdict("discord", msg["id"]), what=f"a verdict on {msg['id']}")


async def reply_sent(bot: CounterpointBot, msg: dict[str, Any]) -> dict[str, Any]:
    async def check() -> Any:
        row = await bot.resources.store.get_reply("discord", msg["id"])
        return row if row and row["status"] == "sent" else None

    return await eventually(check, what=f"the reply to {msg['id']} recorded as sent")
