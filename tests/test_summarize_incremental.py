"""Incremental, cached summaries through the real Store and the real LLMClient against the FakeLLM."""

from __future__ import annotations

import pytest

from bot.llm.client import LLMClient
from bot.store import Store
from bot.summary.format import content_hash
from bot.summary.summarizer import Summarizer
from tests.fakes.fake_llm import fake_llm_fixture  # noqa: F401  (provides the fake_llm fixture)
from tests.fakes.summary_kit import (
    INVENTED,
    kind_of,
    make_settings,
    post_ids_in_posts_block,
    shows_message,
    summary_responder,
    thread,
)


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "db.sqlite3") as s:
        yield s


async def _add(store, posts):
    for p in posts:
        await store.add_post(p)


async def _run(fake, store, **kw):
    """Summarize the thread as the store has it now; returns (summary, requests this call made)."""
    before = len(fake.requests)
    settings = make_settings(fake.base_url, **kw)
    async with LLMClient(settings.llm) as llm:
        posts = await store.thread_posts("discord", "t1")
        summary = await Summarizer.from_settings(settings, llm, store).summarize(posts, thread_id="t1")
    return summary, fake.requests[before:]


async def test_second_call_sends_only_new_messages_and_the_previous_summary(fake_llm, store):
    fake_llm.responder = summary_responder
    await _add(store, thread(40))
    first, calls = await _run(fake_llm, store)
    assert first.engine == "llm" and calls and all(kind_of(b) == "map" for b in calls[:1])
    stored = await store.get_summary("discord", "t1")
    assert stored.covered_until == first.covered_until == "100039" and not stored.stale

    await _add(store, thread(10, start=40))
    second, calls = await _run(fake_llm, store)
    assert len(calls) == 1 and kind_of(calls[0]) == "update"
    assert post_ids_in_posts_block(calls[0]) == [str(100000 + i) for i in range(40, 50)]
    assert "<summary>" in calls[0]["messages"][-1]["content"]  # the previous summary rides along
    assert second.covered_until == "100049" and second.message_count == 50
    ids = {i for p in second.points for i in p.source_ids}
    assert "100040" in ids and INVENTED not in ids  # cites the new messages, never an invented id

    third, calls = await _run(fake_llm, store)
    assert calls == [] and third == second  # nothing new: served from the cache


async def test_many_new_messages_still_take_at_most_two_calls_when_they_fit(fake_llm, store):
    fake_llm.responder = summary_responder
    await _add(store, thread(300))
    await _run(fake_llm, store)
    await _add(store, thread(100, start=300))
    summary, calls = await _run(fake_llm, store)
    assert 1 <= len(calls) <= 2 and summary.message_count == 400
    sent = [i for b in calls for i in post_ids_in_posts_block(b)]
    assert sorted(sent) == [str(100000 + i) for i in range(300, 400)]


@pytest.mark.parametrize("change", ["edit", "delete"])
async def test_edit_or_delete_inside_the_covered_range_forces_a_full_recompute(fake_llm, store, change):
    fake_llm.responder = summary_responder
    await _add(store, thread(30))
    await _run(fake_llm, store)
    if change == "edit":
        assert await store.edit_post("discord", "100005", "message 5: I changed my mind entirely")
    else:
        assert await store.delete_post("discord", "100005")
    assert (await store.get_summary("discord", "t1")).stale
    summary, calls = await _run(fake_llm, store)
    assert calls and all(kind_of(b) == "map" for b in calls)  # no update prompt: from scratch
    sent = [i for b in calls for i in post_ids_in_posts_block(b)]
    assert sent[0] == "100000" and ("100005" in sent) == (change == "edit")
    assert any("I changed my mind" in b["messages"][-1]["content"] for b in calls) == (change == "edit")
    assert not (await store.get_summary("discord", "t1")).stale
    assert summary.message_count == (30 if change == "edit" else 29)


async def test_changed_text_without_a_stale_flag_is_caught_by_the_hash(fake_llm, store):
    fake_llm.responder = summary_responder
    posts = thread(20)
    await _add(store, posts)
    await _run(fake_llm, store)
    stored = await store.get_summary("discord", "t1")
    assert stored.content_hash == content_hash(posts)
    # the stored summary claims to cover different content (e.g. an edit the bot never saw)
    await store.save_summary("discord", "t1", stored.summary, covered_until="100019", content_hash="0" * 64)
    _, calls = await _run(fake_llm, store)
    assert calls and all(kind_of(b) == "map" for b in calls)


async def test_a_failed_update_keeps_the_previous_summary_marked_partial(fake_llm, store):
    fake_llm.responder = summary_responder
    await _add(store, thread(20))
    first, _ = await _run(fake_llm, store)
    await _add(store, thread(5, start=20))
    fake_llm.garbage = True
    summary, calls = await _run(fake_llm, store, max_retries=0)
    assert calls and summary.partial and "5 newest messages" in summary.note
    assert summary.covered_until == first.covered_until
    # a partial result is never cached: the next call tries the update again
    fake_llm.garbage = False
    again, calls = await _run(fake_llm, store)
    assert len(calls) == 1 and kind_of(calls[0]) == "update" and not again.partial


async def test_partial_summaries_are_not_cached(fake_llm, store):
    def first_chunk_fails(body):
        if shows_message(body, 0):
            return "not json"
        return summary_responder(body)

    fake_llm.responder = first_chunk_fails
    await _add(store, thread(80, words=24))
    summary, _ = await _run(fake_llm, store, chunk_tokens=600)
    assert summary.partial and await store.get_summary("discord", "t1") is None
