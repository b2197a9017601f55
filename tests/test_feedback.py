"""Votes feed back: a theme voted Not helpful (or dismissed) more than Helpful in a server is used less there, and
/stats shows helpfulness per theme."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.counterpoint.composer import Composer
from bot.counterpoint.feedback import ThemeFeedback, tally, themes_of, used_less
from bot.counterpoint.library import Library
from bot.models import Citation
from bot.settings import Settings, resource_path
from bot.store import Store
from bot.store.replies import ReplyFeedback
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.store_kit import (  # noqa: F401 (fixtures)
    backend_fixture,
    clock_fixture,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    store_fixture,
)

RACE = ("politico-ai-lobbyists-china-2024", "cser-ai-race-rhetoric-2018")
AXIS = ("epoch-open-closed-gap-2026", "hf-economies-of-open-intelligence")


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(resource_path("config/sources.toml"))


def test_a_replys_themes_are_read_from_the_sources_it_cites(library: Library) -> None:
    assert themes_of(RACE + AXIS, library) == ["open_vs_closed", "race_rhetoric_lobbying"]
    german = ("epoch-us-china-gap-trendingtopics", "epoch-open-closed-gap-2026")
    assert themes_of(german, library) == ["open_vs_closed"]  # the German paragraph's sources
    assert themes_of(RACE[:1], library) == []  # half a paragraph is no paragraph


def test_used_less_means_more_negative_than_helpful_and_at_least_two(library: Library) -> None:
    fb = tally([ReplyFeedback(RACE, 1, 1, True), ReplyFeedback(RACE + AXIS, 0, 1, False)], library)
    race, axis = fb["race_rhetoric_lobbying"], fb["open_vs_closed"]
    assert (race.replies, race.helpful, race.not_helpful, race.dismissed) == (2, 1, 2, 1)
    assert race.used_less and not axis.used_less  # axis: one Not helpful is not enough
    assert used_less(fb) == {"race_rhetoric_lobbying"}
    assert not ThemeFeedback("x", 3, helpful=3, not_helpful=2, dismissed=1).used_less  # a tie is not "more"


async def test_reply_feedback_reads_votes_and_dismissals_per_server(store, clock) -> None:
    cites = [Citation(i, i, f"https://example.org/{i}") for i in RACE]
    for pid, guild in (("p1", "g1"), ("p2", "g1"), ("p3", "g2")):
        await store.add_post(post(pid, guild=guild))
        assert await store.claim_reply("discord", pid, thread_id="t1", guild_id=guild)
        await store.confirm_reply("discord", pid, reply_id=f"r{pid}", text="reply", citations=cites)
    await store.vote("discord", "rp1", "u1", -1)
    await store.vote("discord", "rp1", "u2", -1)
    await store.vote("discord", "rp1", "u3", 1)
    await store.dismiss_reply("discord", "p2", reply_id="rp2", moderator="m", reason="off topic")
    found = await store.reply_feedback("discord", "g1", clock() - timedelta(days=1))
    assert found == [ReplyFeedback(RACE, 1, 2, False), ReplyFeedback(RACE, 0, 0, True)]
    assert await store.reply_feedback("discord", "g1", clock() + timedelta(days=1)) == []
    assert [f.cited for f in await store.reply_feedback("discord", "g2", clock() - timedelta(days=1))] == [RACE]


async def test_a_theme_voted_down_in_a_server_is_used_less_there_only(library: Library, tmp_path) -> None:
    cites = [Citation(i, i, f"https://example.org/{i}") for i in RACE]
    async with Store.open(tmp_path / "fb.sqlite3") as store:
        composer = Composer.from_settings(Settings(), library, None, store)
        before = await composer.compose(FRAMING, guild_id="g1")
        assert before.themes[0] == "race_rhetoric_lobbying"
        for pid in ("p1", "p2"):
            await store.add_post(post(pid, guild="g1"))
            await store.claim_reply("discord", pid, thread_id="t1", guild_id="g1")
            await store.confirm_reply("discord", pid, reply_id=f"r{pid}", text="reply", citations=cites)
            await store.vote("discord", f"r{pid}", "u1", -1)
        after = await composer.compose(FRAMING, guild_id="g1")
        elsewhere = await composer.compose(FRAMING, guild_id="g2")
    assert after.themes[0] != "race_rhetoric_lobbying" and after.text != before.text
    assert elsewhere.themes == before.themes


async def test_stats_shows_helpfulness_per_theme(tmp_path, fake: FakeDiscord) -> None:
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        msg = await fake.user_message(fake.general, FRAMING)
        reply = fake.messages[int((await reply_sent(bot, msg))["reply_id"])]
        await fake.click(reply, "cp:vote:down", user=fake.bob)
        await fake.click(reply, "cp:vote:down", user=fake.alice)
        store = bot.resources.store
        await eventually(lambda: _down(store, reply["id"]), what="two votes")
        iid = await fake.slash("stats", user=fake.moderator, moderator=True)
        embed = (await fake.wait_for(lambda: fake.callback(iid), what="/stats"))["data"]["embeds"][0]
        field = next(f for f in embed["fields"] if f["name"].startswith("Helpfulness by theme"))
        assert "`race_rhetoric_lobbying`: +0 / -2, 0 dismissed in 1 replies (used less)" in field["value"]


async def _down(store, reply_id: str) -> bool:
    return await store.votes_for("discord", reply_id) == (0, 2)
