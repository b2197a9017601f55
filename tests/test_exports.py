"""Thread exports: Discord API list, DiscordChatExporter, Reddit comment page, stdin, and malformed input."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.summary.exports import is_reddit_url, load_export, parse_export

DATA = Path(__file__).parent / "data"


def test_discord_api_list():
    thread, posts = load_export(DATA / "summary_discord_api.json")
    assert thread.platform == "discord" and thread.thread_id == "555" and thread.guild_id == "777"
    # the attachment-only message carries no text and is left out
    assert [p.post_id for p in posts] == ["1001", "1002", "1003", "1004", "1006"]
    assert posts[0].author_name == "Alice" and posts[0].author_id == "11"
    assert posts[1].parent_id == "1001" and posts[3].parent_id == "1003"
    assert posts[2].created_at == datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
    assert posts[3].created_at.tzinfo is not None  # "Z" suffix parsed as UTC


def test_discord_chat_exporter_shape():
    thread, posts = load_export(str(DATA / "summary_discord_dce.json"))
    assert thread.title == "GPU buying advice" and thread.thread_id == "888" and thread.guild_id == "777"
    assert [p.post_id for p in posts] == ["2001", "2003", "2004"]  # the empty ThreadCreated event is skipped
    assert posts[0].author_name == "Erin" and posts[1].parent_id == "2001"


def test_reddit_comment_page():
    thread, posts = load_export(DATA / "summary_reddit.json")
    # fullnames, as the live Reddit stream gives them: a saved page and a fetched thread share ids
    assert thread.platform == "reddit" and thread.thread_id == "t3_abc123" and thread.channel_id == "LocalLLaMA"
    assert thread.title.startswith("Which open model") and thread.url.endswith("/which_open_model/")
    by_id = {p.post_id: p for p in posts}
    # submission first, nested replies flattened, [deleted] and "more" stubs dropped
    assert list(by_id) == ["t3_abc123", "t1_c1", "t1_c2", "t1_c4"]
    assert by_id["t3_abc123"].text.startswith("Which open model") and "16 GB" in by_id["t3_abc123"].text
    assert by_id["t1_c1"].parent_id == "t3_abc123" and by_id["t1_c2"].parent_id == "t1_c1"
    assert all(p.thread_id == "t3_abc123" for p in posts)
    assert by_id["t1_c2"].created_at == datetime.fromtimestamp(1740830600, UTC)


def test_hand_made_list_with_plain_author_and_reply_to():
    text = json.dumps(
        [
            {"id": 1, "author": "ann", "content": "first", "timestamp": "2025-01-01T00:00:00"},
            {"id": 2, "author": "ben", "content": "second", "timestamp": 1735689700, "reply_to": 1},
        ]
    )
    _, posts = parse_export(text, name="x.json")
    assert [(p.post_id, p.author_name, p.parent_id) for p in posts] == [("1", "ann", None), ("2", "ben", "1")]
    assert posts[0].created_at.tzinfo == UTC  # naive times are taken as UTC


def test_stdin_and_inline_text():
    raw = (DATA / "summary_discord_api.json").read_text()
    _, from_stdin = load_export("-", stdin=io.StringIO(raw))
    _, inline = load_export(raw)
    assert [p.post_id for p in from_stdin] == [p.post_id for p in inline] == ["1001", "1002", "1003", "1004", "1006"]


def test_out_of_order_messages_are_sorted_and_deduplicated():
    text = json.dumps(
        [
            {"id": "b", "author": "x", "content": "later", "timestamp": "2025-01-01T00:05:00Z"},
            {"id": "a", "author": "x", "content": "earlier", "timestamp": "2025-01-01T00:00:00Z"},
            {"id": "b", "author": "x", "content": "dup", "timestamp": "2025-01-01T00:05:00Z"},
        ]
    )
    _, posts = parse_export(text)
    assert [(p.post_id, p.text) for p in posts] == [("a", "earlier"), ("b", "later")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("{not json", "is not valid JSON (line 1, column 2"),
        ('{"foo": 1}', "is neither a Discord message export"),
        ("[1, 2, 3]", "is neither a Discord message export"),
        ("[]", "the export has no messages"),
        ('{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": []}', "the export has no messages"),
        ('[{"id": "9", "type": 7, "author": "a", "content": "", "timestamp": "2025-01-01"}]', "only system notices"),
        ('[{"author": "a", "content": "hi", "timestamp": "2025-01-01"}]', "message #1 has no id"),
        ('[{"id": "9", "author": "a", "content": "hi"}]', "message 9 has no timestamp"),
        ('[{"id": "9", "author": "a", "content": "hi", "timestamp": "yesterday"}]', "unreadable timestamp 'yesterday'"),
        ('[{"id": "9", "author": "a", "content": 5, "timestamp": "2025-01-01"}]', "content that is not text"),
        ('[{"id": "9", "author": "a", "content": "", "timestamp": "2025-01-01"}]', "contains no messages with text"),
        ('[{"kind": "Listing", "data": {}}, {"kind": "Listing", "data": {}}]', "holds no submission"),
        ("[" * 50_000 + "]" * 50_000, "nested deeper than 512 levels"),
    ],
)
def test_malformed_input_names_file_and_problem(tmp_path, content, expected):
    path = tmp_path / "thread.json"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        load_export(path)
    message = str(err.value)
    assert str(path) in message and expected in message
    assert message.endswith(".") and "\n" not in message  # one sentence


def test_missing_directory_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_export(tmp_path / "nope.json")
    with pytest.raises(InputError, match="is a directory"):
        load_export(tmp_path)
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00[")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        load_export(binary)


def test_malformed_stdin_is_named_stdin():
    with pytest.raises(InputError, match=r"^stdin is not valid JSON"):
        load_export("-", stdin=io.StringIO("nope"))


def test_summarize_a_deep_export_from_stdin_exits_2_with_one_sentence(monkeypatch, capsys):
    from bot.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO('{"messages": ' + "[" * 200_000 + "]" * 200_000 + "}"))
    assert main(["summarize", "-"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("counterpoint: stdin is not valid JSON") and "nested deeper than 512 levels" in err[-1]
    assert not any("Traceback" in line or "RecursionError" in line for line in err)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://www.reddit.com/r/LocalLLaMA/comments/abc123/title/", True),
        ("https://old.reddit.com/r/x/comments/abc/", True),
        ("http://redd.it/abc123", True),
        ("https://example.com/reddit.com/r/x", False),
        ("thread.json", False),
        ("-", False),
    ],
)
def test_reddit_url_detection(source, expected):
    assert is_reddit_url(source) is expected


def test_a_reddit_page_with_a_reply_chain_deeper_than_reddits_default_cut_is_read():
    # Reddit's own pages reach JSON depth 57 at its default cut of ten reply levels (tests/data/real/reddit); a page
    # saved with ?depth= goes deeper. Built from a real page: its first comment answered by itself 60 levels down.
    real = json.loads((DATA / "real" / "reddit" / "praw_4b1tfm_small_with_deleted.json").read_text(encoding="utf-8"))
    first = real[1]["data"]["children"][0]
    chain = None
    for level in range(60, 0, -1):
        comment = json.loads(json.dumps(first))
        comment["data"] |= {"id": f"deep{level}", "name": f"t1_deep{level}", "body": f"reply at level {level}"}
        comment["data"]["parent_id"] = (
            f"t1_deep{level - 1}" if level > 1 else real[0]["data"]["children"][0]["data"]["name"]
        )
        comment["data"]["replies"] = (
            {"kind": "Listing", "data": {"children": [chain] if chain else []}} if chain else ""
        )
        chain = comment
    real[1]["data"]["children"] = [chain]
    text = json.dumps(real)
    _, posts = parse_export(text, name="deep.json")
    bodies = [p.text for p in posts if p.text.startswith("reply at level")]
    assert len(bodies) == 60
    by_id = {p.post_id: p for p in posts}
    assert by_id["t1_deep60"].parent_id == "t1_deep59"
