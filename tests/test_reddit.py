"""The Reddit front door with the REAL praw against FakeReddit: queue -> approve -> reply exactly once, reply mode,
restarts (no duplicate, no reprocessing, nothing missed), !optout, thread summaries."""

from __future__ import annotations

import argparse
import json

from bot.commands import summarize as summarize_cmd
from bot.reddit.render import FOOTER
from tests.fakes.reddit_kit import (
    FRAMING,
    ORDINARY,
    Recorder,
    _no_retry_sleep,  # noqa: F401  (autouse fixture)
    cycles,
    eventually,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    reddit_settings,
    running,
    spy_on,
)


async def test_queued_then_approved_reply_lands_once_across_restarts(fake, tmp_path, monkeypatch):
    settings = reddit_settings(fake, tmp_path)
    old = fake.add_comment(fake.add_submission("ai", "Old thread"), FRAMING)  # there before the first start
    rec1 = Recorder()
    async with running(settings, rec1) as (door, res):
        await cycles(door, 1)
        thread = fake.add_submission("ai", "Open models", "What do you all think?")
        framing = fake.add_comment(thread, FRAMING)
        await eventually(lambda: rec1.queued, what="the framing comment in the review queue")
        await cycles(door)
        pending = await res.store.pending_reviews()
        assert await res.store.get_post("reddit", old) is None  # history is not news
    assert [d.post.post_id for d in rec1.queued] == [framing]
    assert [r.post_id for r in pending] == [framing]
    assert fake.posted == []

    # while the bot is down: one ordinary and one framing comment arrive
    quiet = fake.add_comment(thread, ORDINARY, author="carol")
    late = fake.add_comment(quiet, FRAMING, author="dave")
    rec2 = Recorder()
    async with running(settings, rec2) as (door, res):
        seen = spy_on(res, monkeypatch)
        await eventually(lambda: rec2.queued, what="the comment that arrived while down")
        review = next(r for r in await res.store.pending_reviews() if r.post_id == framing)
        decision = await res.pipeline.approve(review.id, "mod-1")  # what the Discord Approve button does
        assert decision is not None
        reply_id = await door.reply(decision)
        assert await door.reply(decision) == reply_id  # a second click posts nothing
        assert await res.pipeline.approve(review.id, "mod-2") is None
        await cycles(door)  # the bot's own reply shows up in the stream and is ignored
        stored = await res.store.get_reply("reddit", framing)
    assert seen[:2] == [quiet, late] and framing not in seen
    assert [d.post.post_id for d in rec2.queued] == [late]
    assert len(fake.posted) == 1 and fake.posted[0]["name"] == reply_id == stored["reply_id"]
    assert fake.posted[0]["parent_id"] == framing and stored["status"] == "sent"
    body = fake.posted[0]["body"]
    assert FOOTER in body and "!optout" in body and "\n1. [" in body

    async with running(settings, Recorder()) as (door, res):
        await cycles(door)
    assert len(fake.posted) == 1


async def test_reply_mode_answers_by_itself_once_and_respects_the_thread_cooldown(fake, tmp_path):
    settings = reddit_settings(fake, tmp_path, mode="reply")
    rec = Recorder()
    async with running(settings, rec) as (door, _):
        await cycles(door, 1)
        thread = fake.add_submission("ai", "Chips and models")
        first = fake.add_comment(thread, FRAMING)
        await eventually(lambda: fake.replies_to(first), what="the automatic reply")
        second = fake.add_comment(thread, FRAMING, author="erin")  # same thread, inside the cooldown
        await eventually(lambda: rec.queued, what="the cooled-down one in the review queue")
        await cycles(door)
    assert len(fake.posted) == 1 and rec.queued[0].post.post_id == second
    assert rec.queued[0].reason == "thread cooldown"
    assert (await _reply(settings, first))["status"] == "sent"

    async with running(settings, Recorder()) as (door, _):
        await cycles(door, 3)
    assert len(fake.posted) == 1


async def _reply(settings, post_id):
    from bot.store import Store

    async with Store.open(settings.storage.path) as store:
        return await store.get_reply("reddit", post_id)


async def test_optout_is_stored_and_honoured(fake, tmp_path):
    settings = reddit_settings(fake, tmp_path, mode="reply")
    rec = Recorder()
    async with running(settings, rec) as (door, res):
        await cycles(door, 1)
        thread = fake.add_submission("ai", "A thread")
        fake.add_comment(thread, "  !OptOut please", author="frank")
        await eventually(lambda: res.store.is_opted_out("reddit", "frank"), what="the opt-out")
        theirs = fake.add_comment(thread, FRAMING, author="frank")
        await cycles(door, 3)
        assert await res.store.get_post("reddit", theirs) is None
    assert fake.posted == [] and rec.queued == []


async def test_summarize_url_returns_the_threads_posts(fake, tmp_path):
    settings = reddit_settings(fake, tmp_path)
    thread = fake.add_submission("ai", "Is it a race?", "Discuss.")
    a = fake.add_comment(thread, "First point about compute.")
    b = fake.add_comment(a, "A reply about open weights.", author="gina")
    fake.add_comment(thread, "[deleted]")
    url = f"https://www.reddit.com/r/ai/comments/{thread[3:]}/is_it_a_race/"
    async with running(settings) as (door, _):
        got, posts = await door.summarize_url(url)
    assert (got.thread_id, got.title, got.channel_id) == (thread, "Is it a race?", "ai")
    assert [p.post_id for p in posts] == [thread, a, b]
    assert posts[0].text == "Is it a race?\n\nDiscuss." and posts[2].parent_id == a
    assert all(p.thread_id == thread and p.platform == "reddit" for p in posts)


async def test_cli_summarize_fetches_a_reddit_url(fake, tmp_path, capsys):
    settings = reddit_settings(fake, tmp_path)
    thread = fake.add_submission("ai", "Export controls", "Do they work?")
    fake.add_comment(thread, "They slow things down a little, and push domestic chip work.")
    url = f"https://www.reddit.com/r/ai/comments/{thread[3:]}/export_controls/"
    code = await summarize_cmd.run(argparse.Namespace(source=url, json=True), settings)
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["thread"]["thread_id"] == thread and doc["summary"]["message_count"] == 2
