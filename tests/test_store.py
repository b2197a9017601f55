"""The store's contract: every method on both backends (the `store` fixture: an SQLite file in tmp_path, and
PostgreSQL where its binaries exist), plus SQLite's own file and pragma checks. Privacy, concurrency and migrations
have their own files."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.errors import StoreError
from bot.models import Citation, Source, Thread
from bot.store import MIGRATIONS, Store, StoredSummary
from tests.fakes.store_kit import (  # noqa: F401 (fixtures)
    T0,
    backend_fixture,
    clock_fixture,
    counterpoint,
    db_path,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    sqlite_store_fixture,
    store_fixture,
    summary,
    verdict,
)


async def test_open_creates_folder_and_sets_pragmas(tmp_path, sqlite_store):
    store = sqlite_store
    assert db_path(tmp_path).is_file()
    con = sqlite3.connect(db_path(tmp_path))
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == await store.schema_version() == len(MIGRATIONS)
    finally:
        con.close()
    async with store._write() as db:  # the writer's own per-connection settings
        assert (await db.fetch("PRAGMA synchronous"))[0][0] == 1  # NORMAL
        assert (await db.fetch("PRAGMA foreign_keys"))[0][0] == 1
        assert (await db.fetch("PRAGMA secure_delete"))[0][0] == 1
        assert (await db.fetch("PRAGMA busy_timeout"))[0][0] == 2000
    assert await store.integrity_check() == "ok"


async def test_add_get_edit_post(store, clock):
    p = post("p1", "China will win the AI race", at=T0, parent="p0")
    assert await store.add_post(p) is True
    assert await store.add_post(p) is False  # duplicate delivery
    assert await store.get_post("discord", "p1") == p
    assert await store.get_post("discord", "nope") is None
    assert await store.get_post("reddit", "p1") is None  # keyed by platform too

    assert await store.edit_post("discord", "p1", "edited text") is True
    assert await store.edit_post("discord", "p1", "edited text") is False  # no change
    assert await store.edit_post("discord", "missing", "x") is False
    got = await store.get_post("discord", "p1")
    assert got is not None and got.text == "edited text" and got.parent_id == "p0"


async def test_thread_posts_order_after_and_limit(store):
    for i in (3, 1, 2):
        await store.add_post(post(f"p{i}", at=T0 + timedelta(minutes=i)))
    await store.add_post(post("other", thread="t2"))
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["p1", "p2", "p3"]
    assert [p.post_id for p in await store.thread_posts("discord", "t1", limit=2)] == ["p1", "p2"]
    after = await store.thread_posts("discord", "t1", after=T0 + timedelta(minutes=1))
    assert [p.post_id for p in after] == ["p2", "p3"]
    await store.delete_post("discord", "p2")
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["p1", "p3"]


async def test_threads_and_active_threads(store):
    await store.upsert_thread(Thread("discord", "t1", title="Old", guild_id="g1"))
    await store.upsert_thread(Thread("discord", "t1", title="Chips", channel_id="c1", guild_id="g1"))
    expected = Thread("discord", "t1", title="Chips", channel_id="c1", guild_id="g1")
    assert await store.get_thread("discord", "t1") == expected
    assert await store.get_thread("discord", "t9") is None
    for i in range(3):
        await store.add_post(post(f"a{i}", at=T0 + timedelta(hours=i)))
    await store.add_post(post("b0", thread="t2", at=T0 + timedelta(hours=1)))
    await store.add_post(post("c0", thread="t3", guild="g2", at=T0 + timedelta(hours=1)))
    await store.add_post(post("old", thread="t4", at=T0 - timedelta(days=3)))
    active = await store.active_threads(T0, T0 + timedelta(days=1), guild_id="g1")
    assert [(t.thread_id, n) for t, n in active] == [("t1", 3), ("t2", 1)]
    assert active[0][0].title == "Chips" and active[1][0].guild_id == "g1"  # t2 has no thread row
    assert len(await store.active_threads(T0 - timedelta(days=5))) == 4
    assert await store.active_threads(T0, limit=1, platform="reddit") == []


async def test_verdicts_upsert(store):
    v = verdict("mentions", quote="the race", reason="names a race")
    await store.record_verdict("discord", "p1", v)
    assert await store.get_verdict("discord", "p1") == v
    v2 = verdict("frames", quote="win the race")
    await store.record_verdict("discord", "p1", v2)
    assert await store.get_verdict("discord", "p1") == v2
    assert await store.get_verdict("discord", "p2") is None


async def test_reply_lifecycle(store, clock):
    await store.add_post(post("p1"))
    assert await store.claim_reply("discord", "p1", thread_id="t1", guild_id="g1") is True
    assert await store.claim_reply("discord", "p1", thread_id="t1", guild_id="g1") is False
    pending = await store.get_reply("discord", "p1")
    assert pending is not None and pending["status"] == "pending" and pending["claimed_at"] == T0
    assert await store.release_reply("discord", "p1") is True
    assert await store.get_reply("discord", "p1") is None
    assert await store.claim_reply("discord", "p1", thread_id="t1", guild_id="g1") is True  # retry after failure
    cites = (Citation("s1", "AI Index", "https://example.org/x"),)
    clock.advance(seconds=5)
    await store.confirm_reply("discord", "p1", reply_id="m9", text="Counterpoint", citations=cites)
    sent = await store.get_reply("discord", "p1")
    assert sent is not None
    assert (sent["status"], sent["reply_id"], sent["text"]) == ("sent", "m9", "Counterpoint")
    assert sent["citations"] == [{"id": "s1", "title": "AI Index", "url": "https://example.org/x"}]
    assert sent["sent_at"] == T0 + timedelta(seconds=5)
    assert await store.release_reply("discord", "p1") is False  # a sent reply stays
    assert await store.claim_reply("discord", "p1", thread_id="t1") is False


async def test_confirm_without_claim_still_blocks(store):
    await store.add_post(post("p2", thread="t7"))
    await store.confirm_reply("discord", "p2", reply_id="m1", text="x")
    row = await store.get_reply("discord", "p2")
    assert row is not None and row["status"] == "sent" and row["thread_id"] == "t7"
    assert await store.claim_reply("discord", "p2", thread_id="t7") is False


async def test_dismiss_reply_records_the_first_dismissal_of_a_sent_reply(store, clock):
    await store.add_post(post("p1"))
    await store.claim_reply("discord", "p1", thread_id="t1", guild_id="g1")
    assert await store.dismiss_reply("discord", "p1", reply_id="m1", moderator="mod", reason="r") is False  # pending
    await store.confirm_reply("discord", "p1", reply_id="m1", text="cp")
    assert await store.dismiss_reply("discord", "p1", reply_id="other", moderator="mod", reason="r") is False
    assert await store.dismiss_reply("reddit", "p1", reply_id="m1", moderator="mod", reason="r") is False
    clock.advance(minutes=3)
    assert await store.dismiss_reply("discord", "p1", reply_id="m1", moderator="mod", reason="off-topic") is True
    clock.advance(minutes=1)
    assert await store.dismiss_reply("discord", "", reply_id="m1", moderator="mod2", reason="again") is False
    row = await store.get_reply("discord", "p1")
    assert row is not None and row["status"] == "sent"  # still blocks a second reply
    assert (row["dismissed_at"], row["dismissed_by"], row["dismiss_reason"]) == (
        T0 + timedelta(minutes=3),
        "mod",
        "off-topic",
    )
    # the post id may be unknown (the reply lost its reference): the reply id alone finds it
    await store.add_post(post("p2"))
    await store.confirm_reply("discord", "p2", reply_id="m2", text="cp")
    assert await store.dismiss_reply("discord", "", reply_id="m2", moderator="mod", reason="r") is True
    assert (await store.stats())["dismissed"] == 2
    assert (await store.stats(guild_id="elsewhere"))["dismissed"] == 0
    assert (await store.stats(since=clock.advance(hours=1)))["dismissed"] == 0


async def test_cooldown_and_cap_queries(store, clock):
    assert await store.last_reply_at("discord", "t1") is None
    await store.claim_reply("discord", "a", thread_id="t1", guild_id="g1")
    clock.advance(minutes=10)
    await store.claim_reply("discord", "b", thread_id="t1", guild_id="g1", kind="shadow")
    await store.claim_reply("discord", "c", thread_id="t2", guild_id="g2")
    assert await store.last_reply_at("discord", "t1") == T0 + timedelta(minutes=10)
    assert await store.last_reply_at("discord", "t1", kind="reply") == T0
    assert await store.replies_since("discord", "g1", T0) == 2
    assert await store.replies_since("discord", "g1", T0 + timedelta(minutes=1)) == 1
    assert await store.replies_since("discord", "g1", T0, kind="reply") == 1
    assert await store.replies_since("reddit", "g1", T0) == 0


async def test_votes_changeable_one_per_user(store):
    await store.vote("discord", "m1", "u1", 1)
    await store.vote("discord", "m1", "u2", 1)
    await store.vote("discord", "m1", "u3", -1)
    assert await store.votes_for("discord", "m1") == (2, 1)
    await store.vote("discord", "m1", "u1", -1)  # changed their mind
    assert await store.votes_for("discord", "m1") == (1, 2)
    await store.vote("discord", "m1", "u3", 0)  # withdrawn
    assert await store.votes_for("discord", "m1") == (1, 1)
    assert await store.votes_for("discord", "other") == (0, 0)
    with pytest.raises(ValueError):
        await store.vote("discord", "m1", "u1", 5)


async def test_summaries_save_get_and_stale_on_edit_and_delete(store, clock):
    for i in range(1, 5):
        await store.add_post(post(f"p{i}", at=T0 + timedelta(minutes=i)))
    s = summary("t1", covered_until="p3")
    await store.save_summary("discord", "t1", s, covered_until="p3", content_hash="h1")
    got = await store.get_summary("discord", "t1")
    assert got == StoredSummary(s, "p3", "h1", False, T0)
    await store.edit_post("discord", "p4", "after the summary")  # not covered: stays fresh
    assert (await store.get_summary("discord", "t1")).stale is False
    await store.edit_post("discord", "p2", "covered and edited")
    assert (await store.get_summary("discord", "t1")).stale is True
    await store.save_summary("discord", "t1", s, covered_until="p3", content_hash="h2")  # regenerated
    assert (await store.get_summary("discord", "t1")).stale is False
    await store.delete_post("discord", "p3")  # the covered_until post itself
    assert (await store.get_summary("discord", "t1")).stale is True
    assert await store.get_summary("discord", "t9") is None


async def test_counterpoint_cache(store, clock):
    cp1, cp2 = counterpoint("first"), counterpoint("second")
    assert await store.find_counterpoint("k1") is None
    assert await store.save_counterpoint("k1", "China will win", cp1) is True
    clock.advance(seconds=1)
    await store.save_counterpoint("k2", "The race is on", cp2, platform="discord", post_id="p1")
    assert await store.find_counterpoint("k1") == cp1
    assert await store.recent_counterpoints() == [("The race is on", cp2), ("China will win", cp1)]
    assert await store.recent_counterpoints(limit=1) == [("The race is on", cp2)]
    clock.advance(seconds=1)
    await store.save_counterpoint("k1", "China will win", cp2)  # replaced, now newest
    assert await store.recent_counterpoints() == [("China will win", cp2), ("The race is on", cp2)]


async def test_channel_config_guild_wide_and_override(store):
    await store.set_channel_config("g1", "", "mode", "shadow")
    await store.set_channel_config("g1", "", "cap", "6")
    await store.set_channel_config("g1", "c1", "mode", "reply")
    assert await store.get_channel_config("g1", "c1") == {"mode": "reply", "cap": "6"}
    assert await store.get_channel_config("g1", "c2") == {"mode": "shadow", "cap": "6"}
    await store.set_channel_config("g1", "c1", "mode", None)
    assert await store.get_channel_config("g1", "c1") == {"mode": "shadow", "cap": "6"}
    assert await store.get_channel_config("g2", "c1") == {}


async def test_watch_list(store):
    assert await store.watch_add("g1", "c1") is True
    assert await store.watch_add("g1", "c1") is False
    await store.watch_add("g1", "c0")
    await store.watch_add("g2", "c5")
    assert await store.watched("g1") == [("g1", "c0"), ("g1", "c1")]
    assert await store.watched() == [("g1", "c0"), ("g1", "c1"), ("g2", "c5")]
    assert await store.watch_remove("g1", "c1") is True
    assert await store.watch_remove("g1", "c1") is False
    assert await store.watched("g1") == [("g1", "c0")]


async def test_checkpoints(store):
    assert await store.get_checkpoint("reddit:r/ai:comments") is None
    await store.set_checkpoint("reddit:r/ai:comments", "t1_abc")
    await store.set_checkpoint("reddit:r/ai:comments", "t1_abd")
    assert await store.get_checkpoint("reddit:r/ai:comments") == "t1_abd"


async def test_review_queue(store, clock):
    await store.add_post(post("p1", platform="reddit", guild=""))
    rid = await store.enqueue_review("reddit", "p1", payload={"text": "draft", "n": 1})
    assert rid > 0
    assert await store.enqueue_review("reddit", "p1", payload={"text": "again"}) == rid  # idempotent
    rid2 = await store.enqueue_review("reddit", "p2", payload={})
    pending = await store.pending_reviews()
    assert [r.id for r in pending] == [rid, rid2]
    assert pending[0].payload == {"text": "draft", "n": 1} and pending[0].created_at == T0
    clock.advance(minutes=1)
    assert await store.decide_review(rid, status="approved", moderator="mod-a") is True
    assert await store.decide_review(rid, status="rejected", moderator="mod-b") is False
    got = await store.get_review(rid)
    assert got is not None
    assert (got.status, got.moderator, got.decided_at) == ("approved", "mod-a", T0 + timedelta(minutes=1))
    assert [r.id for r in await store.pending_reviews(limit=10)] == [rid2]
    assert await store.get_review(999) is None
    assert await store.decide_review(999, status="rejected", moderator="m") is False
    with pytest.raises(ValueError):
        await store.decide_review(rid2, status="maybe", moderator="m")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="not JSON"):
        await store.enqueue_review("reddit", "p3", payload={"x": object()})


async def test_reopen_review_and_housekeeping(store):
    rid = await store.enqueue_review("reddit", "p1", payload={"draft": "x"})
    assert await store.reopen_review(rid) is False  # only an approved review goes back to pending
    assert await store.decide_review(rid, status="approved", moderator="m") is True
    assert await store.reopen_review(rid) is True and await store.reopen_review(rid) is False
    assert [r.id for r in await store.pending_reviews()] == [rid]
    assert await store.schema_version() == len(MIGRATIONS)
    assert await store.integrity_check() == "ok"
    assert await store.checkpoint() is True


async def test_sources(store, clock):
    s1 = Source("mod-1", "Report", "Pub", "2024", "https://example.org/r", ("open",), ("fact",), added_by="m1")
    s2 = Source("mod-2", "Other", "Pub", "2023", "https://example.org/o", (), (), via="Digest", added_by="m2")
    await store.add_source(s1)
    clock.advance(seconds=1)
    await store.add_source(s2)
    assert await store.list_sources() == [s1, s2]
    s1b = Source("mod-1", "Report v2", "Pub", "2024", "https://example.org/r2", (), (), added_by="m3")
    clock.advance(seconds=1)
    await store.add_source(s1b)
    assert await store.list_sources() == [s2, s1b]
    assert await store.remove_source("mod-2") is True
    assert await store.remove_source("mod-2") is False
    assert await store.list_sources() == [s1b]


async def test_sources_added_since_by_server(store, clock):
    every = Source("mod-all", "All", "Pub", "2024", "https://example.org/a", ("open",), ("fact",), added_by="m1")
    await store.add_source(every)
    clock.advance(seconds=10)
    since = clock()
    here = Source("mod-here", "Here", "Pub", "2025", "https://example.org/h", ("open",), ("f",), lang="de",
                  guild_id="g1", added_by="m2")  # fmt: skip
    there = Source("mod-there", "There", "Pub", "2025", "https://example.org/t", ("open",), ("f",), guild_id="g2")
    await store.add_source(here)
    await store.add_source(there)
    assert await store.sources_added_since(since) == [here, there]
    assert await store.sources_added_since(since, guild_id="g1") == [here]
    assert [s.id for s in await store.sources_added_since(since - timedelta(seconds=20), guild_id="g1")] == [
        "mod-all", "mod-here",
    ]  # fmt: skip
    assert (await store.list_sources())[1].guild_id == "g1"  # the server and language round-trip


async def test_stats_counts_filters_and_precision(store, clock):
    await store.add_post(post("p1"))
    await store.add_post(post("p2"))
    await store.add_post(post("x1", guild="g2"))
    await store.record_verdict("discord", "p1", verdict("frames"))
    await store.record_verdict("discord", "p2", verdict("other"))
    await store.record_verdict("discord", "x1", verdict("frames"))
    await store.claim_reply("discord", "p1", thread_id="t1", guild_id="g1")
    await store.confirm_reply("discord", "p1", reply_id="m1", text="cp")
    await store.claim_reply("discord", "x1", thread_id="t1", guild_id="g2")  # never confirmed
    await store.vote("discord", "m1", "v1", 1)
    await store.vote("discord", "m1", "v2", 1)
    await store.vote("discord", "m1", "v3", -1)
    r1 = await store.enqueue_review("discord", "p1", payload={})
    r2 = await store.enqueue_review("discord", "p2", payload={})
    await store.enqueue_review("discord", "x1", payload={})
    await store.decide_review(r1, status="approved", moderator="m")
    await store.decide_review(r2, status="rejected", moderator="m")
    everything = await store.stats()
    assert everything["posts"] == 3 and everything["detections"] == 2 and everything["replies"] == 1
    assert everything["pending_claims"] == 1 and everything["pending_reviews"] == 1
    assert (everything["votes_up"], everything["votes_down"]) == (2, 1)
    assert (everything["approved"], everything["rejected"], everything["precision"]) == (1, 1, 0.5)
    assert everything["vote_share"] == pytest.approx(2 / 3) and everything["dismissed"] == 0
    g1 = await store.stats(guild_id="g1")
    assert (g1["posts"], g1["detections"], g1["replies"], g1["votes_up"], g1["pending_reviews"]) == (2, 1, 1, 2, 0)
    assert (await store.stats(guild_id="g2"))["pending_claims"] == 1
    later = await store.stats(since=clock.advance(hours=1))
    assert later["posts"] == 0 and later["precision"] == 0.0 and later["vote_share"] == 0.0


async def test_memory_database_works(clock):
    async with Store.open(":memory:", clock=clock) as store:
        assert await store.add_post(post("p1")) is True
        assert await store.claim_reply("discord", "p1", thread_id="t1") is True
        assert (await store.stats())["posts"] == 1
        assert await store.checkpoint() is True


async def test_errors_become_store_error(tmp_path):
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not an sqlite file at all, just text" * 100)
    with pytest.raises(StoreError, match="corrupt or is not an SQLite database"):
        async with Store.open(bad):
            pass
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot create the folder"):
        async with Store.open(blocker / "sub" / "db.sqlite3"):
            pass


async def test_locked_database_gives_clear_error(tmp_path):
    path = db_path(tmp_path)
    async with Store.open(path, busy_timeout_ms=50) as store:
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            with pytest.raises(StoreError, match="is locked"):
                await store.add_post(post("p1"))
            other.execute("ROLLBACK")
            assert await store.add_post(post("p1")) is True  # the failed transaction left nothing behind
        finally:
            other.close()


async def test_closed_store_raises(tmp_path):
    async with Store.open(db_path(tmp_path)) as store:
        pass
    with pytest.raises(StoreError, match="closed"):
        await store.get_post("discord", "p1")


async def test_unreadable_json_is_store_error(store):
    await store.save_counterpoint("k", "claim", counterpoint())
    async with store._write() as db:
        await db.execute("UPDATE cp_cache SET counterpoint = '{broken'")
    with pytest.raises(StoreError, match="unreadable"):
        await store.find_counterpoint("k")


async def test_failed_write_rolls_back(store):
    with pytest.raises(RuntimeError):
        async with store._write() as db:
            await db.execute("INSERT INTO checkpoints VALUES ('n', 'v', 'now')")
            raise RuntimeError("boom")
    assert await store.get_checkpoint("n") is None
    await store.set_checkpoint("n", "v2")  # the lock and connection are usable again
    assert await store.get_checkpoint("n") == "v2"


async def test_framing_detections_report_what_the_bot_did(store):
    from datetime import timedelta

    from bot.models import Citation, PrefilterResult, Verdict

    frames = Verdict("frames", 0.9, "lexical", PrefilterResult(True, ("race",)), quote="race", reason="r")
    for i in range(3):
        await store.add_post(_detect_post(str(i)))
        await store.record_verdict("discord", str(i), frames)
    await store.record_verdict("discord", "0", frames)  # re-recorded verdict: still one row
    await store.claim_reply("discord", "0", thread_id="t", guild_id="g")
    await store.confirm_reply("discord", "0", reply_id="r0", text="cp", citations=[Citation("a", "A", "https://a")])
    await store.vote("discord", "r0", "u1", 1)
    await store.enqueue_review("discord", "1", payload={"x": 1})
    await store.delete_post("discord", "2")
    await store.dismiss_reply("discord", "0", reply_id="r0", moderator="m", reason="wrong here")
    now = store._clock()
    rows = await store.framing_detections(now - timedelta(hours=1), now + timedelta(hours=1), guild_id="g")
    by_id = {r["post_id"]: r for r in rows}
    assert set(by_id) == {"0", "1", "2"}
    assert (by_id["0"]["reply_status"], by_id["0"]["votes_up"]) == ("sent", 1)
    assert by_id["0"]["dismissed_at"] is not None and by_id["1"]["dismissed_at"] is None
    assert by_id["1"]["review_status"] == "pending" and by_id["1"]["reply_kind"] is None
    assert by_id["2"]["text"] is None  # deleted: never a copy of removed text
    assert by_id["0"]["text"] and by_id["0"]["recorded_at"].tzinfo is not None


def _detect_post(pid: str):
    from datetime import UTC, datetime

    from bot.models import Post

    return Post("discord", pid, "t", "u", "name", f"the AI race with China {pid}", datetime.now(UTC), "c", "g")


def test_store_code_has_no_regular_expressions():
    """Both backends run the very same SQL text: nothing in bot/store may rewrite it (or use `re` at all)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "bot" / "store"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import) and any(a.name == "re" for a in node.names):
                offenders.append(f"{path}: import re")
            if isinstance(node, ast.ImportFrom) and node.module == "re":
                offenders.append(f"{path}: from re import")
    assert offenders == []
