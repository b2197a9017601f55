"""Deletion, forgetting, retention and opt-outs: the text must be gone for good, not just hidden. On SQLite that
means from the file's bytes on disk; on PostgreSQL from every live row (see `leftovers` and docs/storage.md)."""

from __future__ import annotations

from datetime import timedelta

from bot.store import Store
from tests.fakes.store_kit import (  # noqa: F401 (fixtures)
    T0,
    backend_fixture,
    clock_fixture,
    counterpoint,
    leftovers,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    store_fixture,
    summary,
    verdict,
)

SECRET = "Zanzibar-quokka-7731 says China must win the AI race"
# long enough to spill into overflow pages, which are freed (and zeroed) differently from in-page cells
LONG_SECRET = "Marmalade-ocelot-4410 " + "the race between the US and China " * 300


async def seed_copies(store: Store, post_id: str, text: str, *, author: str = "u1") -> None:
    """The post plus every kind of row that can hold a copy of its words."""
    await store.add_post(post(post_id, text, author=author))
    marker = text.split(maxsplit=1)[0]
    await store.record_verdict("discord", post_id, verdict(quote=marker, reason=f"quotes {marker}"))
    await store.enqueue_review("discord", post_id, payload={"post_text": text})
    await store.save_counterpoint(f"key-{post_id}", text, counterpoint(), platform="discord", post_id=post_id)
    # an entry cached for someone else's identical claim, without a post reference: found by its text
    await store.save_counterpoint(f"other-{post_id}", f"  {text.upper()}  ", counterpoint())


async def test_delete_post_removes_text_and_copies_for_good(store):
    await seed_copies(store, "p1", SECRET)
    await seed_copies(store, "p2", LONG_SECRET)
    await store.add_post(post("keep", "an unrelated post that stays"))
    await store.checkpoint()
    raw = await leftovers(store)
    assert b"Zanzibar-quokka-7731" in raw and b"Marmalade-ocelot-4410" in raw  # the scan can see text at all

    assert await store.delete_post("discord", "p1") is True
    assert await store.delete_post("discord", "p2") is True
    assert await store.delete_post("discord", "p1") is False  # already gone
    await store.checkpoint()

    raw = await leftovers(store)
    assert b"Zanzibar-quokka-7731" not in raw
    assert b"Marmalade-ocelot-4410" not in raw
    assert b"an unrelated post that stays" in raw
    assert await store.get_post("discord", "p1") is None
    assert await store.pending_reviews() == []
    assert await store.recent_counterpoints() == []
    v = await store.get_verdict("discord", "p1")
    assert v is not None and v.label == "frames" and v.quote == "" and v.reason == ""  # counts stay


async def test_deleted_post_is_not_stored_again_or_acted_on(store):
    await store.add_post(post("p1", SECRET))
    await store.delete_post("discord", "p1")
    assert await store.add_post(post("p1", SECRET)) is False  # a re-delivered event
    assert await store.claim_reply("discord", "p1", thread_id="t1") is False
    assert await store.enqueue_review("discord", "p1", payload={"post_text": SECRET}) == 0
    assert await store.save_counterpoint("k", SECRET, counterpoint(), platform="discord", post_id="p1") is False
    await store.record_verdict("discord", "p1", verdict(quote="Zanzibar", reason="x"))  # detection raced the delete
    v = await store.get_verdict("discord", "p1")
    assert v is not None and v.quote == "" and v.reason == ""
    assert await store.edit_post("discord", "p1", "new text") is False


async def test_decided_review_keeps_decision_but_loses_text(store):
    await store.add_post(post("p1", SECRET))
    rid = await store.enqueue_review("discord", "p1", payload={"post_text": SECRET})
    await store.decide_review(rid, status="rejected", moderator="m")
    await store.delete_post("discord", "p1")
    got = await store.get_review(rid)
    assert got is not None and got.payload == {} and got.status == "rejected"
    assert (await store.stats())["rejected"] == 1


async def test_forget_author_removes_everything_about_them(store):
    await seed_copies(store, "p1", SECRET, author="alice")
    await seed_copies(store, "p2", LONG_SECRET, author="alice")
    await store.add_post(post("b1", "bob writes something harmless", author="bob"))
    await store.save_summary("discord", "t1", summary("t1"), covered_until="b1", content_hash="h")
    await store.vote("discord", "m1", "alice", 1)
    await store.vote("discord", "m1", "bob", -1)
    await store.opt_out("discord", "alice")
    await store.checkpoint()
    assert b"Zanzibar-quokka-7731" in await leftovers(store)
    assert b"name-alice" in await leftovers(store)

    assert await store.forget_author("discord", "alice") == 2
    await store.checkpoint()

    raw = await leftovers(store)
    for needle in (b"Zanzibar-quokka-7731", b"Marmalade-ocelot-4410", b"name-alice", b"People discuss chips"):
        assert needle not in raw, needle
    assert b"bob writes something harmless" in raw
    data = await store.author_data("discord", "alice")
    assert data["posts"] == 0 and data["texts"] == [] and data["names"] == [] and data["votes"] == 0
    assert data["opted_out"] is True  # their wish is kept
    assert await store.votes_for("discord", "m1") == (0, 1)
    assert await store.get_summary("discord", "t1") is None  # summaries paraphrase them
    assert await store.add_post(post("p1", SECRET, author="alice")) is False
    assert await store.forget_author("discord", "alice") == 0


async def test_author_data_lists_what_is_stored(store):
    await store.add_post(post("p1", "first words", author="carol"))
    await store.add_post(post("p2", "second words", author="carol", at=T0 + timedelta(minutes=1)))
    await store.add_post(post("p3", "deleted words", author="carol"))
    await store.add_post(post("d1", "someone else", author="dave"))
    await store.delete_post("discord", "p3")
    await store.record_verdict("discord", "p2", verdict(quote="second"))
    await store.claim_reply("discord", "p2", thread_id="t1")
    await store.enqueue_review("discord", "p1", payload={})
    await store.vote("discord", "m1", "carol", 1)
    data = await store.author_data("discord", "carol")
    assert data["names"] == ["name-carol"] and data["posts"] == 2 and data["opted_out"] is False
    assert [(t["post_id"], t["text"], t["verdict"]) for t in data["texts"]] == [
        ("p1", "first words", None),
        ("p2", "second words", "frames"),
    ]
    assert data["texts"][1]["quote"] == "second"
    assert (data["verdicts"], data["replies_to_them"], data["reviews"], data["votes"]) == (1, 1, 1, 1)
    assert (await store.author_data("reddit", "carol"))["posts"] == 0


async def test_retention_purge(store, clock):
    old, new = T0 - timedelta(days=100), T0 - timedelta(days=10)
    clock.now = old
    await store.add_post(post("old", "Pelican-harbor-2291 ancient words", at=old))
    await store.record_verdict("discord", "old", verdict(quote="Pelican-harbor-2291"))
    await store.enqueue_review("discord", "old", payload={"t": "Pelican-harbor-2291"})
    await store.save_counterpoint("k-old", "Pelican-harbor-2291 ancient words", counterpoint())
    await store.save_summary("discord", "t1", summary("t1"), covered_until="old", content_hash="h")
    clock.now = new
    await store.add_post(post("new", "recent words stay", at=new))
    await store.save_counterpoint("k-new", "recent claim", counterpoint())
    clock.now = T0

    assert await store.purge_text_older_than(0) == 0  # 0 = keep forever
    assert await store.purge_text_older_than(90) == 1
    assert await store.purge_text_older_than(90) == 0
    await store.checkpoint()
    assert b"Pelican-harbor-2291" not in await leftovers(store)
    purged = await store.get_post("discord", "old")
    assert purged is not None and purged.text == ""  # the tombstone keeps its ids and time
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["new"]
    v = await store.get_verdict("discord", "old")
    assert v is not None and v.label == "frames" and v.quote == ""
    assert await store.pending_reviews() == []
    assert [c for c, _ in await store.recent_counterpoints()] == ["recent claim"]
    assert await store.get_summary("discord", "t1") is None
    assert (await store.stats())["posts"] == 2


async def test_opt_out_blocks_storage_and_replies(store):
    await store.add_post(post("p1", "before opting out", author="erin"))
    assert await store.opt_out("discord", "erin") is True
    assert await store.opt_out("discord", "erin") is False
    assert await store.is_opted_out("discord", "erin") is True
    assert await store.is_opted_out("reddit", "erin") is False
    assert await store.add_post(post("p2", "after opting out", author="erin")) is False
    assert await store.get_post("discord", "p2") is None
    assert await store.claim_reply("discord", "p1", thread_id="t1") is False  # stored earlier, still not answered
    assert await store.enqueue_review("discord", "p1", payload={}) == 0
    assert await store.opt_in("discord", "erin") is True
    assert await store.opt_in("discord", "erin") is False
    assert await store.add_post(post("p2", "after opting in", author="erin")) is True
    assert await store.claim_reply("discord", "p1", thread_id="t1") is True


async def test_bulk_delete(store):
    for i in range(5):
        await seed_copies(store, f"b{i}", f"Bulk-secret-{i}-walrus says the race decides everything")
    assert await store.delete_posts("discord", ["b0", "b1", "b2", "missing", "b2"]) == 3
    await store.checkpoint()
    raw = await leftovers(store)
    assert b"Bulk-secret-0" not in raw and b"Bulk-secret-2" not in raw
    assert b"Bulk-secret-3" in raw  # the ones not deleted stay
    assert [p.post_id for p in await store.thread_posts("discord", "t1")] == ["b3", "b4"]
    assert len(await store.pending_reviews()) == 2
