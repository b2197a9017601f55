"""Store contract for the limits, merged review items, copies on edit and forget (both backends), and the JSON depth
limit on stored payloads."""

from __future__ import annotations

import pytest

from bot.errors import StoreError
from bot.serialize import counterpoint_to_dict
from tests.fakes.store_kit import (  # noqa: F401 (fixtures)
    backend_fixture,
    clock_fixture,
    counterpoint,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    store_fixture,
    verdict,
)

WORDS = "the united states must win the ai race against china at any cost"


async def test_take_slot_is_a_sliding_window_that_lives_in_the_store(store, clock):
    took = [await store.take_slot("reply", "discord:u1", limit=3, window_seconds=3600) for _ in range(5)]
    assert took == [True, True, True, False, False]
    assert await store.slots_used("reply", "discord:u1", window_seconds=3600) == 3
    assert await store.take_slot("reply", "discord:u2", limit=3, window_seconds=3600)  # per subject
    assert await store.take_slot("model", "discord:u1", limit=3, window_seconds=3600)  # per name
    clock.advance(minutes=30)
    assert not await store.take_slot("reply", "discord:u1", limit=3, window_seconds=3600)
    clock.advance(minutes=31)  # the first three are older than the window now
    assert await store.take_slot("reply", "discord:u1", limit=3, window_seconds=3600)
    assert await store.slots_used("reply", "discord:u1", window_seconds=3600) == 1
    assert not await store.take_slot("reply", "discord:u9", limit=0, window_seconds=3600)
    clock.advance(days=2)
    assert await store.purge_rate_events() >= 1
    assert await store.slots_used("model", "discord:u1", window_seconds=10**7) == 0


async def test_posts_of_a_thread_merge_into_one_pending_item_within_the_window(store, clock):
    for i in range(1, 5):
        await store.add_post(post(f"p{i}", f"{WORDS} number {i}", thread="t1"))
    rid = await store.enqueue_review("discord", "p1", payload={"text": "x"}, thread_id="t1", scope="g1", author_id="u1")
    since = clock.now
    assert await store.merge_into_review("discord", "t1", "p2", since=since) == rid
    assert await store.merge_into_review("discord", "t1", "p3", since=since) == rid
    assert await store.merge_into_review("discord", "t1", "p1", since=since) == rid  # its own post: no row
    assert await store.merge_into_review("discord", "other", "p4", since=since) == 0
    assert [p.post_id for p in await store.review_posts(rid)] == ["p2", "p3"]
    assert await store.reviews_of_post("discord", "p3") == [rid] == await store.reviews_of_post("discord", "p1")
    await store.edit_post("discord", "p2", "edited words")
    assert (await store.review_posts(rid))[0].text == "edited words"  # always the current text
    await store.delete_post("discord", "p3")
    assert [p.post_id for p in await store.review_posts(rid)] == ["p2"]
    clock.advance(minutes=20)
    assert await store.merge_into_review("discord", "t1", "p4", since=clock.now) == 0  # window passed
    await store.decide_review(rid, status="rejected", moderator="m")
    assert await store.merge_into_review("discord", "t1", "p4", since=since) == 0  # decided items take no more
    assert await store.reviews_of_post("discord", "p1") == []
    assert await store.reviews_of_post("discord", "p1", pending_only=False) == [rid]


async def test_bot_messages_remember_what_they_quote(store):
    await store.add_post(post("p1", WORDS, author="u1"))
    await store.add_post(post("p2", "another text that is long enough", author="u2"))
    await store.remember_bot_message("discord", "m1", "mods", [("discord", "p1"), ("discord", "p2")], kind="review",
                                     review_id=7)  # fmt: skip
    await store.remember_bot_message("discord", "m2", "mods", [("discord", "p1")], kind="shadow")
    assert {m["message_id"] for m in await store.bot_messages_quoting("discord", ["p1"])} == {"m1", "m2"}
    assert [m["message_id"] for m in await store.bot_messages_of_author("discord", "u2")] == ["m1"]
    assert [m["message_id"] for m in await store.bot_messages_of_review(7)] == ["m1"]
    assert await store.forget_bot_messages("discord", ["m2"]) == 1
    assert [m["message_id"] for m in await store.bot_messages_quoting("discord", ["p1"])] == ["m1"]
    await store.delete_post("discord", "p2")  # a deleted post is quoted nowhere any more
    assert await store.bot_messages_quoting("discord", ["p2"]) == []


async def test_an_edit_leaves_no_copy_of_the_old_text(store):
    await store.add_post(post("p1", WORDS))
    await store.record_verdict("discord", "p1", verdict(quote="must win the ai race", reason="frames a race"))
    await store.save_counterpoint("k1", WORDS, counterpoint(), platform="discord", post_id="p1")
    await store.save_counterpoint("k2", WORDS + " indeed", counterpoint())  # matches the old text, no link
    await store.save_counterpoint("k3", "an unrelated claim about chips", counterpoint())
    rid = await store.enqueue_review(
        "discord", "p1", payload={"text": WORDS, "verdict": {"quote": "must win"}, "counterpoint": {}}
    )
    assert await store.edit_post("discord", "p1", "I changed my mind about this entirely.")
    v = await store.get_verdict("discord", "p1")
    assert v is not None and (v.quote, v.reason) == ("", "")
    assert await store.find_counterpoint("k1") is None and await store.find_counterpoint("k2") is None
    assert await store.find_counterpoint("k3") is not None
    item = await store.get_review(rid)
    assert item.payload["text"] == "I changed my mind about this entirely." and "verdict" not in item.payload


async def test_forget_removes_quotes_of_the_author_in_other_rows(store):
    await store.add_post(post("p1", WORDS, author="u1"))
    await store.add_post(post("p2", "quoting: " + WORDS, author="u2"))
    await store.add_post(post("p3", "nothing in common with anyone at all here", author="u2"))
    await store.claim_reply("discord", "p2", thread_id="t1")
    await store.confirm_reply("discord", "p2", reply_id="r2", text=f"You wrote “{WORDS}”, but research is shared.")
    await store.claim_reply("discord", "p3", thread_id="t1")
    await store.confirm_reply("discord", "p3", reply_id="r3", text="Research is shared across borders.")
    await store.record_verdict("discord", "p2", verdict(quote="must win the ai race against china"))
    pending = await store.enqueue_review("discord", "p2", payload={"text": "quoting: " + WORDS})
    await store.take_slot("reply", "discord:u1", limit=5, window_seconds=3600)
    assert await store.forget_author("discord", "u1") == 1
    assert (await store.get_reply("discord", "p2"))["text"] == ""
    assert (await store.get_reply("discord", "p3"))["text"] == "Research is shared across borders."
    assert (await store.get_verdict("discord", "p2")).quote == ""
    assert await store.get_review(pending) is None
    assert await store.slots_used("reply", "discord:u1", window_seconds=3600) == 0


async def test_a_stored_payload_nested_too_deep_is_a_store_error_not_a_recursion(store):
    await store.add_post(post("p1", WORDS))
    with pytest.raises(StoreError):
        # json.dumps recurses too: the deep payload is written as text directly
        rid = await store.enqueue_review("discord", "p1", payload={"text": "ok"})
        async with store._write() as db:
            await db.execute("UPDATE reviews SET payload = $1 WHERE id = $2", "[" * 5000 + "]" * 5000, rid)
        await store.get_review(rid)
    assert counterpoint_to_dict(counterpoint())  # the normal path still serializes
