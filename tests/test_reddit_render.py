"""Pure parts of the Reddit adapter: the reply body, stream bookmarks, !optout, bot names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.models import Citation, Counterpoint, Post
from bot.reddit.convert import (
    EMPTY,
    Bookmark,
    is_optout,
)
from bot.reddit.render import FOOTER, REDDIT_MAX_CHARS, render_reply
from bot.summary.reddit_items import id_number, is_bot_name, order_key


def cp(text: str, *cites: tuple[str, str]) -> Counterpoint:
    return Counterpoint(text, tuple(Citation(f"s{i}", t, u) for i, (t, u) in enumerate(cites, 1)), "template")


def post(fullname: str, second: int) -> Post:
    return Post("reddit", fullname, "t3_a", "x", "x", "t", datetime.fromtimestamp(1_700_000_000 + second, UTC))


def test_reply_has_the_text_numbered_library_links_and_the_footer():
    body = render_reply(
        cp(
            "Chips matter [1]; so do open models [2]. See evil.example/x and u/someone.",
            ("Report [draft] *2025*", "https://example.org/a_(b)"),
            ("Epoch", "https://epoch.ai/data"),
        )
    )
    text, sources, rule, footer = (
        body.split("\n\n")[0],
        body.split("\n\n")[2],
        body.split("\n\n")[3],
        body.split("\n\n")[4],
    )
    assert "evil.example" not in text and "u/someone" not in text and "[1]" in text and "[2]" in text
    assert sources.splitlines() == [
        r"1. [Report \[draft\] \*2025\*](https://example.org/a_%28b%29)",
        "2. [Epoch](https://epoch.ai/data)",
    ]
    assert rule == "---" and footer == FOOTER and "bot" in FOOTER and "!optout" in FOOTER and "library" in FOOTER
    assert footer.count("(") == footer.count(")")  # Reddit's ^( ) superscript breaks on unbalanced parentheses


def test_only_web_links_are_listed_and_numbers_stay_aligned():
    body = render_reply(cp("A [1] B [2]", ("Bad", "javascript:alert(1)"), ("Good", "https://ok.example/")))
    assert "javascript" not in body and "\n2. [Good](https://ok.example/)" in body and "\n1. " not in body


def test_reply_without_citations_still_carries_the_footer_and_fits_reddit():
    body = render_reply(cp("word " * 5000))
    assert body.endswith(FOOTER) and "Sources" not in body and len(body) <= REDDIT_MAX_CHARS


def test_bookmarks_order_by_time_then_base36_id_and_survive_storage():
    mark = Bookmark.of(post("t1_kz", 5))
    assert mark.precedes(post("t1_l0", 5))  # same second, later id
    assert not mark.precedes(post("t1_kz", 5)) and not mark.precedes(post("t1_ky", 5))
    assert not mark.precedes(post("t1_zz", 4))  # an older second is history, whatever its id
    assert Bookmark.loads(mark.dumps()) == mark and EMPTY.precedes(post("t1_1", 0))
    assert Bookmark.loads(None) is None and Bookmark.loads("not json") is None
    assert id_number("t1_kz") == int("kz", 36) and id_number("garbage") == 0
    assert order_key(post("t1_b", 1)) < order_key(post("t1_a", 2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("!optout", True), ("  !OptOut please", True), ("!opt-out", True), ("please !optout", False),
     ("!optouts", False), ("", False)],
)  # fmt: skip
def test_optout_command(text, expected):
    assert is_optout(text) is expected


def test_bot_names():
    assert is_bot_name("AutoModerator", "me") and is_bot_name("Counterpoint_Bot", "counterpoint_bot")
    assert not is_bot_name("alice", "counterpoint_bot") and not is_bot_name("alice", "")
