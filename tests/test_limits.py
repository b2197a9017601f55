"""Issue 14, parts 4-6: limits on everything unsolicited (a Discord flood through the real discord.py, the Reddit
cap through real praw), forget and edit leaving no copy (also in the bot's own moderator-channel messages),
approval re-judging the current text, and depth limits on parsed JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_resources
from bot.pipeline import Policy
from bot.text import jsonsafe
from cogs import review as review_cog
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    FRAMING_2,
    ORDINARY,
    bot_with,
    eventually,
    fake_discord_fixture,
    judged,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 (fixture)
from tests.fakes.framing_kit import keyword_judge
from tests.faults.kit import GOOD, core_settings, discord_section, is_counterpoint_request, offered, post

VARIANTS = (
    "The US must win the AI race against China before Beijing does, whoever wins controls the future.",
    "China is going to beat us in the AI arms race unless we stop regulating.",
    "Whoever wins the AI race between America and China will rule the century.",
)


def responder(body: dict[str, Any]) -> dict[str, Any]:
    if is_counterpoint_request(body):
        return {"text": GOOD, "source_ids": offered(body)[:2]}
    return keyword_judge(body)


def created_in(fake: FakeDiscord, channel: int) -> list:
    return fake.sent("POST", rf"/channels/{channel}/messages$")


def review_posts_in(fake: FakeDiscord) -> list:
    return [r for r in created_in(fake, fake.mods) if r.body.get("embeds") and "Review #" in str(r.body["embeds"])]


def flood_lines(fake: FakeDiscord) -> list:
    return [r for r in created_in(fake, fake.mods) if "flood limit" in str(r.body.get("content"))]


@pytest.fixture(autouse=True)
def _quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_cog, "REFRESH_SECONDS", 0.2)
    monkeypatch.setattr(review_cog, "FLOOD_SECONDS", 0.5)


# --- 4. limits ------------------------------------------------------------------------------------------------


async def test_a_flood_of_200_posts_by_one_user_gives_bounded_messages_and_model_calls(
    tmp_path, fake: FakeDiscord, fake_llm: FakeLLM
):
    """200 framing posts in seconds by one user, spread over #general and seven of its threads, reply mode: one
    public reply, at most the author's limit of review items (each listing the later posts of its thread), ONE
    flood line for the rest, and model calls within the author's budget."""
    fake_llm.responder = responder
    settings = core_settings(tmp_path, fake_llm.base_url, llm={"deadline": 10.0}, discord=discord_section(fake))
    lim = settings.limits
    places = [fake.general, fake.thread, *(fake.add_thread(fake.general, f"side {n}") for n in range(6))]
    texts = [f"{VARIANTS[i % 3]} #{i}" for i in range(200)]
    async with bot_with(settings) as bot:
        msgs = [await fake.user_message(places[i % len(places)], text, author=fake.bob) for i, text in enumerate(texts)]
        store = bot.resources.store
        await eventually(lambda: _all_judged(store, msgs), timeout=60, what="all 200 judged")
        await fake.wait_for(lambda: flood_lines(fake), timeout=5, what="the flood line")
        await asyncio.sleep(1.0)  # let any late refresh or flood edit land
        public = [r for place in places for r in created_in(fake, place)]
        reviews = review_posts_in(fake)
        floods = flood_lines(fake)
        detections = [b for b in fake_llm.requests if not is_counterpoint_request(b)]
        composes = [b for b in fake_llm.requests if is_counterpoint_request(b)]
        pending = await store.pending_reviews(limit=500)
    print(
        f"\nflood: 200 posts -> {len(public)} public replies, {len(reviews)} review messages, {len(floods)} flood "
        f"line(s), {len(detections)} detection calls, {len(composes)} compose calls"
    )
    assert 1 <= len(public) <= lim.user_replies_per_hour  # thread cooldowns and the author's limit hold the rest
    assert 1 <= len(reviews) <= lim.user_reviews_per_hour  # not 199
    assert len(floods) == 1 and "from " in floods[0].body["content"]
    assert floods[0].body["allowed_mentions"]["parse"] == []
    assert len(detections) <= lim.user_model_calls_per_hour  # not 200
    assert (
        len(composes) <= lim.user_replies_per_hour + lim.user_reviews_per_hour
    )  # composed only for what passed the limits
    # the pending items list the posts of their thread instead of one item each
    assert len(pending) <= lim.user_reviews_per_hour
    edits = fake.sent("PATCH", rf"/channels/{fake.mods}/messages/\d+$")
    assert any("Also in this thread" in str(e.body.get("embeds")) for e in edits)


async def _all_judged(store: Any, msgs: list[dict[str, Any]]) -> bool:
    for m in (msgs[0], msgs[-1], msgs[len(msgs) // 2]):
        if await store.get_post("discord", m["id"]) is None:
            return False
    async with store._read() as db:
        rows = await db.fetch("SELECT COUNT(*) FROM posts")
    return int(rows[0][0]) >= len(msgs)


async def test_limits_survive_a_restart(tmp_path):
    """The author's hourly limit is counted in the store: a restart does not reset it."""
    settings = core_settings(tmp_path, None, framing={"engine": "lexical"})
    open_policy = Policy("reply", cooldown_seconds=0, hourly_cap=1000)
    actions = []
    for round_ in range(2):
        async with build_resources(settings) as res:
            for i in range(3):
                d = await res.pipeline.handle(
                    post(f"r{round_}-{i}", FRAMING, thread=f"t{round_}{i}"), policy=open_policy
                )
                actions.append(d.action)
    assert actions.count("reply") == settings.limits.user_replies_per_hour  # 2 in the first run, 0 after it


async def test_reddit_cap_per_author_and_per_subreddit(tmp_path):
    """Reddit reply mode: 60 framing comments by one user in 60 threads get at most the author's limit of
    replies; many authors get at most the subreddit's hourly cap. (The pipeline with Reddit posts; the praw path
    is in test_reddit_flood_through_praw.)"""
    settings = core_settings(tmp_path, None, framing={"engine": "lexical"}, reddit={"mode": "reply", "hourly_cap": 3})
    async with build_resources(settings) as res:
        policy = await res.pipeline.policy("reddit", "", "ai")
        assert (policy.mode, policy.hourly_cap) == ("reply", 3)
        one = [
            await res.pipeline.handle(_reddit_post(f"a{i}", f"t3_a{i}", "mallory"), policy=policy) for i in range(60)
        ]
        many = [
            await res.pipeline.handle(_reddit_post(f"b{i}", f"t3_b{i}", f"user{i}"), policy=policy) for i in range(10)
        ]
    replies_one = sum(d.action == "reply" for d in one)
    queued_one = sum(d.action == "queue" for d in one)
    dropped_one = sum(bool(d.flood) for d in one)
    replies_many = sum(d.action == "reply" for d in many)
    print(f"\nreddit: one author, 60 threads -> {replies_one} replies, {queued_one} queued, {dropped_one} dropped; "
          f"10 authors -> {replies_many} replies (cap 3, {replies_one} already used)")  # fmt: skip
    assert replies_one == settings.limits.user_replies_per_hour == 2
    assert queued_one == settings.limits.user_reviews_per_hour and dropped_one == 60 - 2 - queued_one
    assert replies_one + replies_many == 3  # the subreddit's hourly cap


def _reddit_post(pid: str, thread: str, author: str) -> Any:
    from dataclasses import replace

    return replace(
        post(f"t1_{pid}", f"{VARIANTS[0]} ({pid})", thread=thread, author=author),
        platform="reddit",
        channel_id="ai",
        guild_id="",
    )


async def test_reddit_flood_through_praw_is_one_line(tmp_path):
    from tests.fakes.fake_reddit import FakeReddit
    from tests.fakes.reddit_kit import Recorder, cycles, reddit_settings, running
    from tests.fakes.reddit_kit import eventually as soon

    with FakeReddit() as fake:
        settings = reddit_settings(fake, tmp_path, mode="reply")
        rec = Recorder()
        async with running(settings, rec) as (door, _res):
            await cycles(door, 1)
            for i in range(30):
                fake.add_comment(fake.add_submission("ai", f"Thread {i}"), f"{VARIANTS[i % 3]} #{i}", author="mallory")
            await soon(lambda: any("flood limit" in n for n in rec.notices), what="the flood line")
            await cycles(door, 2)
        floods = [n for n in rec.notices if "flood limit" in n]
        print(f"\nreddit via praw: 30 framing comments by one user in 30 threads -> {len(fake.posted)} replies, "
              f"{len(rec.queued)} queued, {len(floods)} flood line(s): {floods[0]!r}")  # fmt: skip
        assert len(fake.posted) == settings.limits.user_replies_per_hour
        assert len(rec.queued) == settings.limits.user_reviews_per_hour
        assert len(floods) == 1 and "u/mallory in r/ai" in floods[0]


# --- 5. forget and edit -----------------------------------------------------------------------------------------


async def test_forget_rewrites_the_bots_messages_that_quote_the_author(tmp_path, fake: FakeDiscord):
    settings = core_settings(
        tmp_path, None, framing={"engine": "lexical"}, discord=discord_section(fake, mode="shadow")
    )
    async with bot_with(settings) as bot:
        msg = await fake.user_message(fake.general, FRAMING, author=fake.bob)
        await reply_sent(bot, msg)
        shadow = (await fake.wait_for(lambda: created_in(fake, fake.mods), what="the shadow note"))[0]
        note_id = shadow.response["id"] if isinstance(getattr(shadow, "response", None), dict) else None
        assert "must win the AI race" in json.dumps(shadow.body)
        await fake.slash("mydata", [{"name": "forget", "type": 1, "options": []}], user=fake.bob)
        edit = await fake.wait_request("PATCH", rf"/channels/{fake.mods}/messages/\d+$")
        assert edit.body["content"] == review_cog.REMOVED and edit.body["embeds"] == []
        assert note_id is None or edit.path.endswith(str(note_id))
        stored = [m for m in fake.messages.values() if m["channel_id"] == str(fake.mods)]
        assert all("must win the AI race" not in json.dumps(m) for m in stored)
        assert await bot.resources.store.bot_messages_of_author("discord", fake.bob["id"]) == []


async def test_approval_after_an_edit_shows_the_new_text_and_posts_nothing_if_it_no_longer_frames(
    tmp_path, fake: FakeDiscord
):
    settings = core_settings(tmp_path, None, framing={"engine": "lexical"}, discord=discord_section(fake))
    async with bot_with(settings) as bot:
        first = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, first)
        second = await fake.user_message(fake.general, FRAMING_2, author=fake.bob)
        await fake.wait_for(lambda: review_posts_in(fake), what="the review item")
        review_msg = next(m for m in fake.messages.values() if m["channel_id"] == str(fake.mods) and m["components"])
        await fake.edit_message(int(second["id"]), ORDINARY)
        refreshed = await fake.wait_request("PATCH", rf"/channels/{fake.mods}/messages/{review_msg['id']}$")
        assert "pasta" in json.dumps(refreshed.body) and "arms race" not in json.dumps(refreshed.body)
        approve = next(c["custom_id"] for row in review_msg["components"] for c in row["components"])
        await fake.click(review_msg, approve, user=fake.moderator, moderator=True)
        closed = await fake.wait_request("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
        footer = closed.body["embeds"][0]["footer"]["text"]
        assert "nothing was posted" in footer and "no longer frames" in footer  # one sentence for the moderator
        assert "pasta" in json.dumps(closed.body) and closed.body["components"] == []
        assert len(created_in(fake, fake.general)) == 1  # nothing posted for the edited post
        assert await bot.resources.store.get_reply("discord", second["id"]) is None


# --- 6. depth ---------------------------------------------------------------------------------------------------


def test_the_json_helper_refuses_deep_documents_without_recursion():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(jsonsafe.JsonTooDeep) as caught:
        jsonsafe.loads(deep)
    assert isinstance(caught.value, json.JSONDecodeError) and "deeper than 64" in str(caught.value)
    assert jsonsafe.loads('{"a": [[["ok"]]], "s": "[[[[[[ not brackets ]"}') == {
        "a": [[["ok"]]],
        "s": "[[[[[[ not brackets ]",
    }
    assert jsonsafe.loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(jsonsafe.JsonTooDeep):
        jsonsafe.loads("[" * 65 + "]" * 65)
    value, end = jsonsafe.raw_decode('chatter {"label": "frames"} then ' + "[" * 5000, 8)
    assert value == {"label": "frames"} and end == 27  # only the value is measured
    with pytest.raises(jsonsafe.JsonTooDeep):
        jsonsafe.loads(b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}")


def _depth_by_characters(text: str) -> int:
    """The reference: the deepest nesting outside strings, character by character, as check_depth's loop reads."""
    return max((depth for _pos, depth, opened in jsonsafe._brackets(text) if opened), default=0)


def test_the_fast_depth_count_agrees_with_the_character_loop():
    # the whole-document check runs in C (regex + accumulate); on random bracket soup with strings, escapes,
    # unclosed strings and newlines it must find the depth the character loop finds, as long as the count never
    # goes below zero (past that point the text is not JSON and json stops there, before any deeper part)
    import random

    rng = random.Random(17)
    alphabet = ["[", "]", "{", "}", '"', "\\", "a", ",", ":", "\n", " ", '\\"', "[[", "]]"]
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))
        reference, depth = _depth_by_characters(text), 0
        for ch in jsonsafe._NOT_BRACKET.sub("", jsonsafe._STRING.sub("", text)):
            depth += 1 if ch in "[{" else -1
            if depth < 0:
                break
        else:
            assert jsonsafe._deepest(text) == reference, text
            checked += 1
    assert checked > 500
    real = (Path(__file__).parent / "data" / "real" / "reddit" / "praw_n49rw_full_thread.json").read_text()
    assert jsonsafe._deepest(real) == _depth_by_characters(real) == 57


async def test_a_model_reply_nested_too_deep_leaves_the_post_unjudged_with_one_log_line(
    tmp_path, fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
):
    fake_llm.responder = lambda body: '{"label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    caplog.set_level(logging.WARNING)
    async with build_resources(core_settings(tmp_path, fake_llm.base_url)) as res:
        decision = await res.pipeline.handle(post("deep1", FRAMING), policy=Policy("reply", 0, 1000))
        assert decision.action == "ignore" and decision.reason.startswith("unjudged")
        assert await res.store.get_verdict("discord", "deep1") is None
    lines = [r for r in caplog.records if "nested too deep" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert not re.search(r"Traceback|RecursionError", caplog.text)
