"""Reddit's failures against the real praw and FakeReddit: 5xx retried and backed off, 403 disables a subreddit
and tells the moderators once, a reply whose outcome is unknown is never posted twice, refusals free the claim."""

from __future__ import annotations

import logging

import pytest

from bot.errors import (
    RedditRejected,
)
from tests.fakes.reddit_kit import (
    FRAMING,
    Recorder,
    _no_retry_sleep,  # noqa: F401  (autouse fixture)
    cycles,
    eventually,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    reddit_settings,
    running,
)


async def test_a_5xx_on_a_listing_is_retried_by_prawcore(fake, tmp_path):
    rec = Recorder()
    async with running(reddit_settings(fake, tmp_path), rec) as (door, _):
        await cycles(door, 1)
        before = fake.count("GET", "/r/ai/comments")
        fake.fail(503, times=2, path="/r/ai/comments")
        thread = fake.add_submission("ai", "Compute")
        framing = fake.add_comment(thread, FRAMING)
        await eventually(lambda: rec.queued, what="the comment behind two 503s")
        assert door._failures == {}  # retried inside one poll: the watcher never saw an error
    assert rec.queued[0].post.post_id == framing
    assert fake.count("GET", "/r/ai/comments") - before >= 3


async def test_repeated_5xx_backs_off_and_the_watcher_keeps_going(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.reddit.door")
    rec = Recorder()
    async with running(reddit_settings(fake, tmp_path), rec) as (door, _):
        await cycles(door, 1)
        fake.fail(500, times=9, path="/r/ai/new")  # three polls' worth of prawcore's three attempts
        thread = fake.add_submission("ai", "Chips")
        fake.add_comment(thread, FRAMING)
        await eventually(lambda: rec.queued, timeout=15, what="recovery after the outage")
        await eventually(lambda: not door._failures, what="the failure count reset")
    waits = [r.getMessage() for r in caplog.records if "in a row" in r.getMessage()]
    assert [w.split(" failed ")[1].split(" time")[0] for w in waits] == ["1", "2", "3"]
    assert rec.notices == []


async def test_a_403_disables_the_subreddit_and_tells_the_moderators_once(fake, tmp_path):
    settings = reddit_settings(fake, tmp_path, subreddits=["ai", "ml"])
    fake.forbidden.add("ai")
    rec = Recorder()
    async with running(settings, rec) as (door, res):
        await eventually(lambda: rec.notices, what="the notice")
        await cycles(door, 3)
        ml_thread = fake.add_submission("ml", "Benchmarks")
        ml_comment = fake.add_comment(ml_thread, FRAMING)
        await eventually(lambda: rec.queued, what="the other subreddit still watched")
        assert await res.store.get_checkpoint("reddit:ai:disabled")
    assert len(rec.notices) == 1 and "r/ai" in rec.notices[0] and "403" in rec.notices[0]
    assert rec.queued[0].post.post_id == ml_comment

    asked = fake.count("GET", "/r/ai/")
    rec2 = Recorder()
    async with running(settings, rec2) as (door, res):
        await cycles(door, 3)
        assert rec2.notices == [] and fake.count("GET", "/r/ai/") == asked  # stays disabled, told once
        fake.forbidden.clear()  # the subreddit's moderators let the bot in; ours re-enable it
        await door.enable("ai")
        await eventually(lambda: res.store.get_checkpoint("reddit:ai:comments"), what="r/ai watched again")
        back = fake.add_comment(fake.add_submission("ai", "Welcome back"), FRAMING)
        await eventually(lambda: rec2.queued, what="a post from r/ai queued again")
    assert rec2.queued[0].post.post_id == back and rec2.notices == []


async def test_a_403_on_a_reply_disables_frees_the_claim_and_notifies(fake, tmp_path):
    rec = Recorder()
    async with running(reddit_settings(fake, tmp_path, mode="reply"), rec) as (door, res):
        await cycles(door, 1)
        fake.fail(403, times=5, path="/api/comment")  # banned from posting; reading still works
        framing = fake.add_comment(fake.add_submission("ai", "Policy"), FRAMING)
        await eventually(lambda: rec.notices, what="the notice")
        await cycles(door, 2)
        assert await res.store.get_reply("reddit", framing) is None  # released: a moderator may retry later
        assert await res.store.get_checkpoint("reddit:ai:disabled")
    assert fake.posted == [] and len(rec.notices) == 1


async def test_a_reply_that_landed_behind_a_500_is_not_posted_again(fake, tmp_path):
    async with running(reddit_settings(fake, tmp_path, mode="reply")) as (door, res):
        await cycles(door, 1)
        fake.post_then_fail = 1  # Reddit stores the comment, then times out
        framing = fake.add_comment(fake.add_submission("ai", "Talent"), FRAMING)
        await eventually(lambda: res.store.get_reply("reddit", framing), what="the reply record")
        await eventually(lambda: _sent(res, framing), what="the reply confirmed")
        stored = await res.store.get_reply("reddit", framing)
    assert len(fake.posted) == 1 and fake.count("POST", "/api/comment") == 1
    assert stored["reply_id"] == fake.posted[0]["name"]


async def test_a_reply_refused_with_a_503_before_the_write_is_tried_again(fake, tmp_path):
    async with running(reddit_settings(fake, tmp_path, mode="reply")) as (door, res):
        await cycles(door, 1)
        fake.fail(503, times=1, path="/api/comment")
        framing = fake.add_comment(fake.add_submission("ai", "Energy"), FRAMING)
        await eventually(lambda: _sent(res, framing), what="the reply confirmed")
    assert len(fake.posted) == 1 and fake.count("POST", "/api/comment") == 2


async def test_an_approved_reply_to_a_locked_comment_is_refused_and_released(fake, tmp_path):
    rec = Recorder()
    async with running(reddit_settings(fake, tmp_path), rec) as (door, res):
        await cycles(door, 1)
        framing = fake.add_comment(fake.add_submission("ai", "Robots"), FRAMING)
        await eventually(lambda: rec.queued, what="the queued comment")
        fake.things[framing]["locked"] = True
        decision = await res.pipeline.approve(rec.queued[0].review_id, "mod-1")
        assert decision is not None
        with pytest.raises(RedditRejected, match="locked"):
            await door.reply(decision)
        assert await res.store.get_reply("reddit", framing) is None
    assert fake.posted == [] and fake.count("POST", "/api/comment") == 0


async def test_bad_credentials_are_reported_once_and_the_watcher_recovers(fake, tmp_path):
    fake.bad_credentials = True
    rec = Recorder()
    async with running(reddit_settings(fake, tmp_path), rec) as (_, res):
        await eventually(lambda: rec.notices, what="the credentials notice")
        fake.bad_credentials = False
        await eventually(lambda: res.store.get_checkpoint("reddit:ai:comments"), what="the first good poll")
        framing = fake.add_comment(fake.add_submission("ai", "Late start"), FRAMING)
        await eventually(lambda: rec.queued, timeout=15, what="the watcher working again")
    assert len(rec.notices) == 1 and "credentials" in rec.notices[0]
    assert rec.queued[0].post.post_id == framing


async def _sent(res, post_id):
    reply = await res.store.get_reply("reddit", post_id)
    return reply is not None and reply["status"] == "sent"
