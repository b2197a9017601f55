"""Several shards in one process: the real discord.py AutoShardedBot against FakeDiscord, which honours the `shard`
field of IDENTIFY (each connection gets only its shard's guilds and their events)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.discord_bot import CounterpointBot, shard_options
from bot.errors import ConfigError
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    bot_with,
    discord_settings,
    fake_discord_fixture,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import GUILD_ID, FakeDiscord

OTHER_GUILD = GUILD_ID + (1 << 22)  # (id >> 22) % 2: GUILD_ID is on shard 0 of 2, this one on shard 1


@pytest.fixture(autouse=True)
def no_identify_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py waits 5 s before each IDENTIFY after the first (Discord's start rate); not against a fake."""

    async def at_once(self: Any, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    monkeypatch.setattr(CounterpointBot, "before_identify_hook", at_once)


def replies_in(fake: FakeDiscord, channel: int) -> list[Any]:
    return fake.sent("POST", rf"/channels/{channel}/messages$")


async def _one_reply_in_each_guild(bot: CounterpointBot, fake: FakeDiscord, other: int) -> None:
    posts = {channel: await fake.user_message(channel, FRAMING) for channel in (other, fake.general)}
    for post in posts.values():
        await reply_sent(bot, post)
    for channel, post in posts.items():
        replies = replies_in(fake, channel)
        assert [r.body["message_reference"]["message_id"] for r in replies] == [int(post["id"])]


async def test_two_shards_in_one_process_each_get_their_guilds_and_answer_once(tmp_path, fake: FakeDiscord):
    other = fake.add_guild(OTHER_GUILD, "Other Guild")
    settings = discord_settings(
        tmp_path, fake, shard_count=2, shard_ids=["0", "1"], watch_channels=[str(fake.general), str(other)]
    )
    async with bot_with(settings) as bot:
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        by_shard = {tuple(i["shard"]): g for i, g in zip(fake.identifies, fake.ready_guilds, strict=True)}
        assert by_shard == {(0, 2): [GUILD_ID], (1, 2): [OTHER_GUILD]}
        assert sorted(bot.shards) == [0, 1] and bot.shard_count == 2
        assert [bot.get_guild(g).shard_id for g in (GUILD_ID, OTHER_GUILD)] == [0, 1]  # type: ignore[union-attr]
        assert not any(r.path.endswith("/gateway/bot") for r in fake.requests)  # the count was given
        await _one_reply_in_each_guild(bot, fake, other)


async def test_without_a_count_discord_recommends_it_and_the_configured_gateway_is_kept(tmp_path, fake: FakeDiscord):
    fake.recommended_shards = 2
    fake.advertised_gateway = "ws://127.0.0.1:9/not-the-configured-gateway"  # nothing listens there
    other = fake.add_guild(OTHER_GUILD, "Other Guild")
    settings = discord_settings(tmp_path, fake, watch_channels=[str(fake.general), str(other)])
    async with bot_with(settings) as bot:
        assert any(r.path.endswith("/gateway/bot") for r in fake.requests)
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]  # both through the fake's gateway
        assert bot.shard_count == 2
        await _one_reply_in_each_guild(bot, fake, other)


def test_shard_settings_become_discord_py_options_or_a_clear_config_error():
    assert shard_options(0, []) == {}
    assert shard_options(4, ["1", "3"]) == {"shard_count": 4, "shard_ids": [1, 3]}
    assert shard_options(2, []) == {"shard_count": 2, "shard_ids": [0, 1]}
    for count, ids, words in [(0, ["1"], "needs discord.shard_count"), (2, ["2"], "between 0"), (2, ["x"], "whole")]:
        with pytest.raises(ConfigError, match=words):
            shard_options(count, ids)
