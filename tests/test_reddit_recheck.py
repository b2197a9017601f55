"""Reddit items edited or deleted after the bot read them (issue 15): the front door re-reads what it handled
lately through /api/info (100 fullnames per request, on the praw thread), so deleted text leaves the store and
summaries covering it go stale, as Discord's delete and edit events do."""

from __future__ import annotations

from typing import Any

from bot.models import Summary, SummaryPoint
from tests.fakes.reddit_kit import (
    _no_retry_sleep,  # noqa: F401  (autouse fixture)
    cycles,
    eventually,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    reddit_settings,
    running,
)

ORDINARY = "I run Qwen at Q4 on a 3090 and it is fine for chat."


async def test_deleted_removed_and_edited_comments_are_caught_up(fake: Any, tmp_path: Any) -> None:
    settings = reddit_settings(fake, tmp_path)
    async with running(settings) as (door, res):
        door.recheck_every = 0.0  # every pass (the default is every five minutes)
        await cycles(door, 1)
        thread = fake.add_submission("ai", "Local models", "Which one do you run?")
        deleted = fake.add_comment(thread, "My secret-walrus-42 setup is a 4090.", author="carol")
        removed = fake.add_comment(thread, "Buy my course at spam.example", author="spammer")
        edited = fake.add_comment(thread, ORDINARY, author="dave")
        kept = fake.add_comment(thread, "Gemma 3 for translation.", author="erin")
        store = res.store
        await eventually(lambda: store.get_post("reddit", kept), what="the comments stored")
        summary = Summary(thread, (SummaryPoint("everyone runs something local", (deleted,)),), covered_until=kept)
        await store.save_summary("reddit", thread, summary, covered_until=kept, content_hash="h")
        fake.delete(deleted)
        fake.delete(removed, removed=True)
        fake.edit(edited, ORDINARY + " Edit: now a 4090.")

        async def caught_up() -> bool:
            gone = await store.get_post("reddit", deleted) is None and await store.get_post("reddit", removed) is None
            now = await store.get_post("reddit", edited)
            return gone and now is not None and now.text.endswith("now a 4090.")

        await eventually(caught_up, what="the deletion, the removal and the edit reflected in the store")
        assert (await store.get_post("reddit", kept)).text == "Gemma 3 for translation."
        stored = await store.get_summary("reddit", thread)
        assert stored is not None and stored.stale  # regenerated before it is shown again
    assert not any("secret-walrus-42" in str(v) for v in await _all_text(tmp_path))
    info = [q for m, p, q in fake.requests if p == "/api/info"]
    assert info and all(len(q["id"].split(",")) <= 100 for q in info)


async def test_rechecks_go_in_batches_of_100(fake: Any, tmp_path: Any) -> None:
    settings = reddit_settings(fake, tmp_path)
    async with running(settings) as (door, _):
        thread = fake.add_submission("ai", "Busy thread")
        names = [fake.add_comment(thread, f"comment number {i} about models") for i in range(230)]
        fake.delete(names[7])
        before = fake.count("GET", "/api/info")
        current = await door.client.recheck([*names, "t1_zzzzzz"])  # the last one never existed
        calls = [q for _, p, q in fake.requests if p == "/api/info"][before:]
    assert sorted(len(q["id"].split(",")) for q in calls) == [31, 100, 100]
    assert current[names[0]] == "comment number 0 about models"
    assert current[names[7]] is None and current["t1_zzzzzz"] is None  # deleted, and gone
    assert len(current) == 231


async def _all_text(tmp_path: Any) -> list[Any]:
    import sqlite3

    db = sqlite3.connect(tmp_path / "cp.sqlite3")
    try:
        return [row for table in ("posts", "summaries") for row in db.execute(f"SELECT * FROM {table}")]
    finally:
        db.close()
