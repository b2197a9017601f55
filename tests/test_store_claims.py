"""The repeated-claim cache per server or subreddit, and what drops an entry (a moderator's Dismiss or Reject, a
net-negative vote); the fallback counts behind /stats. Contract tests: both backends (see tests/fakes/store_kit)."""

from __future__ import annotations

from tests.fakes.store_kit import (  # noqa: F401 (fixtures)
    backend_fixture,
    clock_fixture,
    counterpoint,
    pg_dsn_fixture,
    pg_server_fixture,
    post,
    store_fixture,
)


async def test_the_cache_is_kept_per_scope(store, clock):
    a, b = counterpoint("answer for server A"), counterpoint("answer for server B")
    await store.save_counterpoint("k1", "China will win", a, scope="discord:1")
    clock.advance(seconds=1)
    await store.save_counterpoint("k2", "China will win", b, scope="reddit:r/x")
    assert await store.find_counterpoint("k1", scope="discord:1") == a
    assert await store.find_counterpoint("k1", scope="reddit:r/x") is None  # the key alone is not enough
    assert await store.find_counterpoint("k1") is None
    assert await store.recent_counterpoints(scope="discord:1") == [("China will win", a)]
    assert await store.recent_counterpoints(scope="reddit:r/x") == [("China will win", b)]
    assert await store.recent_counterpoints(scope="discord:2") == []


async def sent_reply(store, post_id: str, text: str, reply_id: str) -> None:
    await store.add_post(post(post_id))
    assert await store.claim_reply("discord", post_id, thread_id="t1", guild_id="1")
    await store.confirm_reply("discord", post_id, reply_id=reply_id, text=text)


async def test_dismissing_a_reply_drops_its_cached_counterpoint_in_every_scope(store):
    cp, other = counterpoint("the dismissed words"), counterpoint("a reply nobody minded")
    await store.save_counterpoint("k1", "claim one", cp, scope="discord:1")
    await store.save_counterpoint("k2", "claim one", cp, scope="discord:2")
    await store.save_counterpoint("k3", "claim two", other, scope="discord:1")
    await sent_reply(store, "p1", cp.text, "r1")
    assert await store.dismiss_reply("discord", "p1", reply_id="r1", moderator="m", reason="wrong") is True
    assert await store.find_counterpoint("k1", scope="discord:1") is None
    assert await store.find_counterpoint("k2", scope="discord:2") is None
    assert await store.find_counterpoint("k3", scope="discord:1") == other


async def test_a_net_negative_vote_drops_the_cached_counterpoint(store):
    cp = counterpoint("words the readers disliked")
    await store.save_counterpoint("k1", "claim", cp, scope="discord:1")
    await sent_reply(store, "p1", cp.text, "r1")
    await store.vote("discord", "r1", "u1", 1)
    await store.vote("discord", "r1", "u2", -1)
    assert await store.find_counterpoint("k1", scope="discord:1") == cp  # even: kept
    await store.vote("discord", "r1", "u3", -1)
    assert await store.find_counterpoint("k1", scope="discord:1") is None


async def test_drop_cached_reply_by_text(store):
    cp = counterpoint("a rejected review item")
    await store.save_counterpoint("k1", "claim", cp, scope="reddit:r/x")
    assert await store.drop_cached_reply("something else") == 0
    assert await store.drop_cached_reply(cp.text) == 1
    assert await store.find_counterpoint("k1", scope="reddit:r/x") is None


async def test_fallback_counts_by_kind_reason_scope_and_time(store, clock):
    start = clock.now
    await store.record_fallback("counterpoint", "copy", scope="discord:1")
    await store.record_fallback("counterpoint", "copy", scope="discord:1")
    await store.record_fallback("counterpoint", "payload", scope="discord:2")
    clock.advance(hours=2)
    await store.record_fallback("summary", "grounding", scope="discord:1")
    assert await store.fallback_counts() == {
        "counterpoint:copy": 2,
        "counterpoint:payload": 1,
        "summary:grounding": 1,
    }
    assert await store.fallback_counts(scope="discord:1") == {"counterpoint:copy": 2, "summary:grounding": 1}
    assert await store.fallback_counts(since=start.replace(hour=start.hour + 1)) == {"summary:grounding": 1}
