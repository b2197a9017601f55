"""Unit tests of the Discord adapters: pure rendering within Discord's limits, and cog callbacks called directly
with a mocked Interaction over a real store (no network)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
import pytest_asyncio
from bot.cogs import render
from bot.cogs.common import is_moderator
from bot.cogs.digests import Digests
from bot.cogs.moderation import Moderation
from bot.cogs.privacy import Privacy
from bot.cogs.summaries import Progress, parse_since
from discord import app_commands

from bot.app import build_resources
from bot.discord_bot import FALLBACK, CounterpointTree, Endpoints, NotModerator, describe_error
from bot.errors import InputError, LLMUnavailable, StoreError
from bot.models import Citation, Counterpoint, Post, ReviewItem, Summary, SummaryPoint
from bot.settings import load_settings
from tests.fakes.discord_kit import unused_port

GUILD, CHANNEL, MODS = 111, 222, 333


def long_cp(n: int = 12) -> Counterpoint:
    cites = tuple(
        Citation(f"s{i}", "A very long title about the AI race " * 12, f"https://ex.org/{i}(x)") for i in range(n)
    )
    return Counterpoint("word " * 3000 + "@everyone", cites, "template")


def test_counterpoint_embed_fits_every_limit_and_numbers_its_sources():
    embed = render.counterpoint_embed(long_cp())
    data = embed.to_dict()
    assert len(data["description"]) <= 4096 and len(embed) <= 6000
    sources = data["fields"][0]["value"]
    assert len(sources) <= 1024 and sources.startswith("1. [") and "\n2. [" in sources
    assert "%29" in sources  # a ")" in a URL cannot end the markdown link early
    assert "@everyone" not in data["description"] and "Automated note" in data["footer"]["text"]


def test_fit_embed_keeps_the_whole_embed_within_6000():
    embed = discord.Embed(title="t" * 400, description="d" * 5000)
    for i in range(30):
        embed.add_field(name=f"f{i}", value="v" * 2000)
    out = render.fit_embed(embed)
    assert len(out.title) <= 256 and len(out) <= 6000
    assert len(out.description) == 1000 and 0 < len(out.fields) <= 25  # text first, trailing fields dropped
    assert all(len(f.value) <= 1024 for f in out.fields)


def test_summary_pieces_fit_2000_and_carry_numbered_jump_links():
    points = tuple(SummaryPoint(f"point {i} @here " + "x" * 150, (str(1000 + i),)) for i in range(40))
    summary = Summary("t", points, engine="extractive", message_count=40)
    url = render.jump_url("1", "2", "{}")
    pieces = render.summary_pieces(summary, lambda pid: url.format(pid) if pid != "1001" else None)
    assert len(pieces) > 1 and all(len(p) <= 2000 for p in pieces)
    text = "\n".join(pieces)
    assert "[1](<https://discord.com/channels/1/2/1000>)" in text and "[2]" in text  # no URL: the bare number
    assert "@here" not in text


def test_review_and_shadow_embeds_and_stats_render_what_they_are_given():
    at = datetime(2025, 1, 2, tzinfo=UTC)
    item = ReviewItem(7, "reddit", "t1_x", "pending", at, {"text": "race!", "author": "u", "url": "",
            "reason": "queue mode", "counterpoint": {"text": "context [1]", "citations": [
                {"id": "a", "title": "T", "url": "https://a.org"}]}})  # fmt: skip
    embed = render.review_embed(item).to_dict()
    assert embed["title"] == "Review #7 (reddit)" and "queue mode" in embed["footer"]["text"]
    assert render.review_embed(ReviewItem(8, "discord", "p", "pending", at)).description.startswith("(the counterpoint")
    numbers = {"detections": 4, "dismissed": 2, "approved": 3, "rejected": 1, "precision": 0.75}
    fields = {f.name: f.value for f in render.stats_embed(numbers, period="x").fields}
    assert fields["Framing detections"] == "4" and fields["Precision (approved / reviewed)"] == "75% of 4 reviewed"
    assert fields["Replies dismissed by moderators"] == "2"
    assert fields["Fell back from the model"] == "Counterpoints → cited template: 0\nSummaries → extractive: 0"
    fallbacks = {"counterpoint:copy": 3, "counterpoint:payload": 1, "summary:grounding": 2}
    fields = {f.name: f.value for f in render.stats_embed(numbers, period="x", fallbacks=fallbacks).fields}
    assert fields["Fell back from the model"] == (
        "Counterpoints → cited template: 4 (copy 3, payload 1)\nSummaries → extractive: 2 (grounding 2)"
    )


def test_mydata_pieces_fit_and_end_with_what_to_do():
    data = {"opted_out": False, "names": ["al"], "posts": 50, "texts": [{"text": "t" * 400, "created_at": "2025"}] * 50}
    pieces = render.mydata_pieces(data)
    assert all(len(p) <= 2000 for p in pieces) and "… and 30 more" in pieces[-1] and "/mydata forget" in pieces[-1]


def test_parse_since_reads_units_and_rejects_the_rest():
    now = datetime(2025, 1, 2, tzinfo=UTC)
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since(" 1D ", now=now) == now - timedelta(days=1)
    with pytest.raises(InputError, match="30m, 2h"):
        parse_since("yesterday", now=now)


def test_describe_error_is_one_honest_sentence():
    wrapped = app_commands.CommandInvokeError(MagicMock(), StoreError("disk full at /secret/path"))
    assert "database" in describe_error(wrapped) and "/secret" not in describe_error(wrapped)
    assert "moderators" in describe_error(NotModerator())
    assert "model server" in describe_error(LLMUnavailable("x"))
    assert describe_error(InputError("Give a time.")) == "Give a time."
    assert describe_error(RuntimeError("token=abc")) == FALLBACK


def test_endpoints_patch_and_restore_discord_class_attributes():
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    ends = Endpoints("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gw")
    ends.apply()
    try:
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gw"
    finally:
        ends.restore()
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


# ---- cog callbacks with a mocked Interaction ---------------------------------------------------------------


@pytest_asyncio.fixture(name="bot")
async def bot_fixture(tmp_path):
    settings = load_settings(
        None,
        llm={"base_url": f"http://127.0.0.1:{unused_port()}/v1", "connect_timeout": 0.5, "max_retries": 0},
        storage={"path": str(tmp_path / "u.sqlite3"), "retention_days": 0},
        discord={"mod_channel": str(MODS), "mod_role": "Helpers", "digest_time": "09:00"},
    )
    async with build_resources(settings) as resources:
        mods = MagicMock(spec=discord.TextChannel, id=MODS, guild=SimpleNamespace(id=GUILD))
        mods.send = AsyncMock()
        yield SimpleNamespace(
            resources=resources, settings=settings, guilds=[SimpleNamespace(id=GUILD)], user=SimpleNamespace(id=1),
            get_channel=lambda cid: mods if cid == MODS else None, fetch_channel=AsyncMock(side_effect=KeyError),
            mods=mods, reddit=None, dispatch=MagicMock(),
        )  # fmt: skip


def interaction(bot: Any, *, manage: bool = False, roles: tuple[str, ...] = (), user_id: int = 42) -> Any:
    member = MagicMock(spec=discord.Member, id=user_id, display_name="maria")
    member.roles = [SimpleNamespace(id=900 + i, name=name) for i, name in enumerate(roles)]
    inter = MagicMock(spec=discord.Interaction)
    inter.client, inter.user, inter.guild_id = bot, member, GUILD
    inter.guild = SimpleNamespace(id=GUILD, channels=[SimpleNamespace(id=CHANNEL)])
    inter.channel = SimpleNamespace(id=CHANNEL)
    inter.permissions = discord.Permissions(manage_guild=manage)
    inter.response = MagicMock(is_done=MagicMock(return_value=False), send_message=AsyncMock(), defer=AsyncMock())
    inter.followup = MagicMock(send=AsyncMock())
    return inter


def said(inter: Any) -> str:
    return inter.response.send_message.await_args.args[0]


async def test_is_moderator_by_permission_or_role_name(bot):
    assert await is_moderator(interaction(bot, manage=True))
    assert await is_moderator(interaction(bot, roles=("Helpers",)))
    assert not await is_moderator(interaction(bot, roles=("Members",)))


async def test_settings_callback_stores_what_the_pipeline_then_uses(bot):
    cog = Moderation(bot)
    inter = interaction(bot, manage=True)
    with pytest.raises(InputError):
        await Moderation.settings_.callback(cog, inter, digest_time="25:00")
    await Moderation.settings_.callback(cog, inter, mode="reply", cooldown=30, hourly_cap=2, digest_time="07:30")
    policy = await bot.resources.pipeline.policy("discord", str(GUILD), str(CHANNEL))
    assert (policy.mode, policy.cooldown_seconds, policy.hourly_cap) == ("reply", 30, 2)
    assert "mode: reply" in said(inter) and "07:30 UTC" in said(inter)
    assert inter.response.send_message.await_args.kwargs["ephemeral"] is True


async def test_watch_add_list_remove_callbacks(bot):
    cog, inter = Moderation(bot), interaction(bot, manage=True)
    await Moderation.watch_add.callback(cog, inter, None)
    assert await bot.resources.store.watched(str(GUILD)) == [(str(GUILD), str(CHANNEL))]
    listing = interaction(bot, manage=True)
    await Moderation.watch_list.callback(cog, listing)
    assert f"<#{CHANNEL}>" in said(listing)
    await Moderation.watch_remove.callback(cog, inter, None)
    assert await bot.resources.store.watched(str(GUILD)) == []
    assert [c.args for c in bot.dispatch.call_args_list] == [("counterpoint_watch_changed", str(GUILD))] * 2


async def test_the_moderation_cog_refuses_non_moderators(bot):
    with pytest.raises(NotModerator):
        await Moderation(bot).interaction_check(interaction(bot))


async def test_daily_digest_is_sent_once_at_or_after_its_time(bot):
    cog = Digests(bot)
    day = datetime(2025, 5, 1, tzinfo=UTC)
    assert await cog.send_due_digests(day.replace(hour=8, minute=59)) == 0
    assert await cog.send_due_digests(day.replace(hour=9, minute=0)) == 1
    assert "Moderator digest" in bot.mods.send.await_args.args[0]
    assert bot.mods.send.await_args.kwargs["allowed_mentions"].to_dict()["parse"] == []
    assert await cog.send_due_digests(day.replace(hour=15)) == 0  # once a day
    assert await cog.send_due_digests(day + timedelta(days=1, hours=10)) == 1


async def test_the_digest_loop_survives_an_error(bot, caplog):
    cog = Digests(bot)
    cog.send_due_digests = AsyncMock(side_effect=StoreError("database is locked"))  # type: ignore[method-assign]
    await Digests.digest_tick.coro(cog)  # one tick, as the loop runs it
    assert "scheduled digest failed" in caplog.text


async def test_mydata_show_and_forget_callbacks(bot):
    store, cog = bot.resources.store, Privacy(bot)
    post = Post("discord", "5", "t", "42", "maria", "my words about the AI race", datetime.now(UTC), guild_id="1")
    await store.add_post(post)
    show = interaction(bot)
    await Privacy.mydata_show.callback(cog, show)
    assert "my words about the AI race" in said(show) and show.response.send_message.await_args.kwargs["ephemeral"]
    forget = interaction(bot)
    await Privacy.mydata_forget.callback(cog, forget)
    assert "Erased the text of 1 stored messages" in said(forget)
    assert (await store.author_data("discord", "42"))["texts"] == []


async def test_tree_error_boundary_tells_the_user_one_sentence(bot, caplog):
    inter = interaction(bot)
    inter.command = SimpleNamespace(qualified_name="summarize")
    tree = MagicMock(spec=CounterpointTree)
    await CounterpointTree.on_error(tree, inter, app_commands.CommandInvokeError(MagicMock(), ValueError("boom")))
    assert said(inter) == FALLBACK and inter.response.send_message.await_args.kwargs["ephemeral"]
    assert "/summarize failed" in caplog.text and "boom" in caplog.text


async def test_progress_edits_are_throttled():
    inter = MagicMock(edit_original_response=AsyncMock())
    clock = iter([100.0, 100.5, 104.0, 104.1])
    progress = Progress(inter, 500, clock=lambda: next(clock))
    for done in (1, 2, 3, 4):
        progress("map", done, 4)
        await asyncio.sleep(0)  # the edit task runs
    await progress.finish()
    texts = [c.kwargs["content"] for c in inter.edit_original_response.await_args_list]
    assert texts == ["Summarizing 500 messages… reading parts 1/4", "Summarizing 500 messages… reading parts 3/4",
                     "Summary of 500 messages below."]  # fmt: skip
