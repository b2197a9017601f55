"""Stream checkpoints across restarts, with the real praw against FakeReddit: a backlog longer than one listing page
is caught up, a vanished bookmark item neither replays history nor loses news, the stream resumes after it."""

from __future__ import annotations

from bot.reddit.convert import (
    Bookmark,
)
from tests.fakes.reddit_kit import (
    ORDINARY,
    _no_retry_sleep,  # noqa: F401  (autouse fixture)
    cycles,
    eventually,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    reddit_settings,
    running,
    spy_on,
)


async def test_a_backlog_longer_than_a_page_is_caught_up_in_order(fake, tmp_path, monkeypatch):
    settings = reddit_settings(fake, tmp_path)
    thread = fake.add_submission("ai", "Busy thread")
    async with running(settings) as (door, res):
        await cycles(door, 1)
        first = fake.add_comment(thread, ORDINARY)
        await eventually(lambda: res.store.get_post("reddit", first), what="the first comment")
    backlog = [fake.add_comment(thread, f"{ORDINARY} ({i})", author=f"user{i}") for i in range(130)]
    start = len(fake.requests)
    async with running(settings) as (door, res):
        seen = spy_on(res, monkeypatch)
        await eventually(lambda: len(seen) >= 130, timeout=20, what="the whole backlog")
        await cycles(door)
        mark = Bookmark.loads(await res.store.get_checkpoint("reddit:ai:comments"))
    assert seen == backlog  # oldest first, each once, none from before the restart
    assert mark is not None and mark.fullname == backlog[-1]
    resumed = next(q for m, p, q in fake.requests[start:] if p == "/r/ai/comments")
    assert resumed.get("before") == first  # the new stream continues after the checkpoint


async def test_a_deleted_bookmark_item_replays_nothing_and_loses_nothing(fake, tmp_path, monkeypatch):
    settings = reddit_settings(fake, tmp_path)
    thread = fake.add_submission("ai", "Thread")
    async with running(settings) as (door, res):
        await cycles(door, 1)
        one = fake.add_comment(thread, ORDINARY)
        two = fake.add_comment(thread, ORDINARY + " again")
        await eventually(lambda: res.store.get_post("reddit", two), what="both comments")
    del fake.things[two]  # removed by the subreddit's moderators while the bot was down
    three = fake.add_comment(thread, ORDINARY + " later", author="hana")
    async with running(settings) as (door, res):
        seen = spy_on(res, monkeypatch)
        await eventually(lambda: seen, what="the new comment")
        await cycles(door, 3)
    assert seen == [three] and one not in seen
