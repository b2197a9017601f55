"""Moderator digest: built from the real Store, rendered and split into Discord-sized pieces."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.models import Thread
from bot.settings import Settings, SummarizeSettings
from bot.store import Store
from bot.summary.digest import DigestScope, action_of, build_digest, render_digest
from bot.summary.summarizer import Summarizer
from bot.text.limits import split_text
from tests.fakes.store_kit import T0, Clock, verdict
from tests.fakes.summary_kit import thread

SINCE, UNTIL = T0 - timedelta(hours=1), T0 + timedelta(hours=23)

# ---- splitting -----------------------------------------------------------------------------------------------


def test_short_text_is_one_piece():
    assert split_text("a\nb", 2000) == ["a\nb"]


def test_pieces_are_cut_at_line_boundaries():
    lines = [f"line {i} " + "word " * (i % 30) for i in range(400)]
    text = "\n".join(lines)
    pieces = split_text(text, 500)
    assert len(pieces) > 1 and all(0 < len(p) <= 500 for p in pieces)
    assert [line for p in pieces for line in p.split("\n")] == [line.strip("\n") for line in lines]


def test_a_long_line_is_cut_between_words_and_a_huge_word_hard():
    words = [f"w{i:04d}" for i in range(1500)]
    pieces = split_text(" ".join(words) + "\n" + "x" * 4500, 2000)
    assert all(len(p) <= 2000 for p in pieces)
    rebuilt = " ".join(pieces[:-3]).split() if len(pieces) > 3 else []
    assert all(re.fullmatch(r"w\d{4}", w) for w in rebuilt)  # no word was cut in two
    assert "".join(p for p in pieces if p.startswith("x")) == "x" * 4500


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"reply_kind": "reply", "reply_status": "sent"}, "replied"),
        ({"reply_kind": "shadow", "reply_status": "sent"}, "shadow"),
        ({"reply_kind": "reply", "reply_status": "sent", "dismissed_at": "2025-01-01"}, "reply dismissed"),
        ({"reply_kind": "reply", "reply_status": "pending"}, "sending"),
        ({"review_status": "pending"}, "queued"),
        ({"review_status": "rejected"}, "dismissed"),
        ({"review_status": "approved"}, "approved"),
        ({}, "no action"),
    ],
)
def test_action_of(row, expected):
    assert action_of(row) == expected


# ---- building from the store ---------------------------------------------------------------------------------


def _settings(**kw: Any) -> Settings:
    return Settings(summarize=SummarizeSettings(digest_threads=2), **kw)


SCOPE = DigestScope.from_settings(_settings())


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "db.sqlite3", clock=Clock(T0 + timedelta(hours=2))) as s:
        yield s


async def _fill(store: Store) -> None:
    sizes = {"busy": 30, "mid": 12, "quiet": 3, "elsewhere": 20}
    for n, (name, size) in enumerate(sizes.items()):
        channel = "c9" if name == "elsewhere" else "c1"
        for p in thread(size, start=n * 1000, thread_id=name):
            await store.add_post(p.__class__(**{**_fields(p), "channel_id": channel}))
        await store.upsert_thread(Thread("discord", name, title=f"{name} thread", channel_id=channel, guild_id="g1"))
    await store.watch_add("g1", "c1")
    await store.record_verdict("discord", "100000", verdict())
    await store.claim_reply("discord", "100000", thread_id="busy", guild_id="g1")
    await store.confirm_reply("discord", "100000", reply_id="r1", text="counterpoint")
    for user, value in (("a", 1), ("b", 1), ("c", -1)):
        await store.vote("discord", "r1", user, value)
    await store.record_verdict("discord", "101001", verdict())
    await store.enqueue_review("discord", "101001", payload={"text": "the US must win the AI war against China"})


def _fields(p: Any) -> dict[str, Any]:
    return {name: getattr(p, name) for name in p.__slots__}


async def test_digest_from_the_store(store):
    await _fill(store)
    summarizer = Summarizer.from_settings(_settings(), None, store)  # no model: extractive summaries
    digest = await build_digest(store, summarizer, since=SINCE, until=UNTIL, scope=SCOPE)
    assert [(t.thread.thread_id, t.posts) for t in digest.threads] == [("busy", 30), ("mid", 12), ("quiet", 3)]
    assert [t.summary is not None for t in digest.threads] == [True, True, False]  # the 2 busiest
    assert digest.threads[0].summary.engine == "extractive"
    assert (digest.votes_up, digest.votes_down) == (2, 1)
    assert [r.post_id for r in digest.pending] == ["101001"]
    pieces = render_digest(digest)
    text = "\n".join(pieces)
    assert all(len(p) <= 2000 for p in pieces)
    assert "busy thread (#c1): 30 messages" in text and "elsewhere" not in text  # unwatched channel left out
    assert "+2 / -1" in text and "the US must win the AI war" in text


class _WithDetections:
    """The real store with canned framing_detections rows."""

    def __init__(self, store: Store, rows: list[dict[str, Any]]) -> None:
        self._store, self._rows = store, rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def framing_detections(self, since, until, *, guild_id=None, limit=100):
        return self._rows[:limit]


async def test_detections_are_listed_with_what_the_bot_did(store):
    await _fill(store)
    rows = [
        {"post_id": "100000", "author_name": "user0", "text": "AI is a race with China", "score": 0.91,
         "reply_kind": "reply", "reply_status": "sent", "votes_up": 2, "votes_down": 1},
        {"post_id": "101001", "author_name": "user1", "text": "the US must win", "score": 0.8,
         "review_status": "pending"},
    ]  # fmt: skip
    digest = await build_digest(
        _WithDetections(store, rows), Summarizer.from_settings(_settings(), None), since=SINCE, until=UNTIL, scope=SCOPE
    )
    text = "\n".join(render_digest(digest))
    assert "Framing detections__: 2" in text
    assert "user0 [100000] 0.91 → replied (+2/-1)" in text and "user1 [101001] 0.80 → queued" in text
    assert "no framing_detections query" not in text


async def test_long_digest_splits_cleanly_and_neutralizes_mentions(store):
    for i in range(60):
        name = f"t{i:02d}"
        for p in thread(2 + i % 5, start=i * 100, thread_id=name):
            await store.add_post(p)
        title = f"@everyone thread {i} " + "with a rather long descriptive title " * 2
        await store.upsert_thread(Thread("discord", name, title=title, channel_id="c1"))
    digest = await build_digest(
        store, Summarizer.from_settings(_settings(), None), since=SINCE, until=UNTIL, scope=SCOPE
    )
    pieces = render_digest(digest, link=lambda i: f"https://discord.com/channels/g1/c1/{i}")
    assert len(pieces) > 1 and all(0 < len(p) <= 2000 for p in pieces)
    assert all(not p.startswith((" ", "\n")) for p in pieces)
    joined = "\n".join(pieces)
    assert "@everyone" not in joined and "@\u200beveryone" in joined
    assert "https://discord.com/channels/g1/c1/" in joined
