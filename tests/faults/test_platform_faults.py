"""Platform faults at the Discord door, with the real discord.py against FakeDiscord: 5xx on a reply, a gateway
that drops the bot, and Discord asking it to reconnect. What a person in the channel sees is asserted each time.

Already covered elsewhere, not repeated here:
- Discord 429 on the reply is waited out, one reply: tests/test_discord_e2e.py::test_a_429_on_the_reply_is_waited_out
- Discord 403 on the reply releases the claim: tests/test_discord_e2e.py::
  test_other_bots_are_never_answered_and_a_refused_send_releases_the_claim
- Reddit 5xx on listings (retried by prawcore, then backed off per subreddit), 403 (subreddit disabled, moderators
  told once), 403/500/503 on a reply (claim freed / never posted twice / retried), bad credentials:
  tests/test_reddit_errors.py
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import pytest

from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    FRAMING_2,
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    judged,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import GUILD_ID, FakeDiscord


def replies_in(fake: FakeDiscord, channel: int) -> list[Any]:
    return fake.sent("POST", rf"/channels/{channel}/messages$")


class _QuickAsyncio:
    """discord.http's view of asyncio with its retry sleeps (1 + 2 * tries seconds on a 5xx) cut short."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, 0.01), result)


async def test_one_discord_500_on_the_reply_is_retried_and_answered_once(tmp_path, fake: FakeDiscord):
    fake.fail("POST", rf"/channels/{fake.general}/messages$", status=500, times=1)
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, post)
    statuses = [r.status for r in fake.requests if r.path.endswith(f"/channels/{fake.general}/messages")]
    assert statuses == [500, 200]
    assert len(replies_in(fake, fake.general)) == 1


async def test_a_discord_outage_on_replies_frees_the_claim_and_the_next_post_is_answered(
    tmp_path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
):
    """Five 502s in a row: discord.py gives up (DiscordServerError). The channel shows nothing for that post, the
    claim is released (a moderator may retry), the thread's cooldown is not consumed by a reply that never went
    out, and the next framing post is answered."""
    monkeypatch.setattr(discord.http, "asyncio", _QuickAsyncio())
    fake.fail("POST", rf"/channels/{fake.general}/messages$", status=502, times=5)
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        first = await fake.user_message(fake.general, FRAMING)
        await eventually(lambda: _five_failures(fake), what="five refused replies")
        await judged(bot, first)
        await eventually(lambda: _released(bot, first["id"]), what="the claim released")
        assert replies_in(fake, fake.general) == []
        second = await fake.user_message(fake.general, FRAMING_2, author=fake.bob)
        await reply_sent(bot, second)
    replies = replies_in(fake, fake.general)
    assert len(replies) == 1 and replies[0].body["message_reference"]["message_id"] == int(second["id"])


async def _five_failures(fake: FakeDiscord) -> bool:
    return sum(r.status == 502 for r in fake.requests) == 5


async def _released(bot: Any, post_id: str) -> bool:
    return await bot.resources.store.get_reply("discord", post_id) is None


async def _drop(fake: FakeDiscord, how: str) -> None:
    """The gateway goes away under the bot: a close frame with a resumable code, or Discord's op 7 RECONNECT."""
    sockets = list(fake._sockets)  # the fake keeps its live gateway sockets here
    assert sockets, "the bot is connected"
    for ws in sockets:
        if how == "close":
            await ws.close(code=4000, message=b"unknown error")
        else:
            await ws.send_str(json.dumps({"op": 7, "d": None, "s": None, "t": None}))


@pytest.mark.parametrize("how", ["close", "reconnect-op"])
async def test_after_the_gateway_drops_the_bot_reconnects_and_still_answers(tmp_path, fake: FakeDiscord, how: str):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        before = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, before)
        await _drop(fake, how)
        # discord.py tries RESUME; the fake keeps no sessions and answers INVALID_SESSION, so it IDENTIFYs again
        await fake.wait_for(lambda: len(fake.identifies) == 2, timeout=10, what="a second IDENTIFY")
        await fake.connected()
        await eventually(lambda: _guild_back(bot), what="the guild available again")
        after = await fake.user_message(fake.thread, FRAMING_2, author=fake.bob)
        await reply_sent(bot, after)
        await fake.redeliver(before)  # Discord may re-send events after a reconnect
        barrier = await fake.user_message(fake.general, "thanks, that helps")
        await judged(bot, barrier)
    assert len(replies_in(fake, fake.general)) == 1 and len(replies_in(fake, fake.thread)) == 1
    assert bot.is_closed()


async def _guild_back(bot: Any) -> bool:
    guild = bot.get_guild(GUILD_ID)
    return guild is not None and not guild.unavailable and bot.is_ready()
