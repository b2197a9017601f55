"""Real Discord and Reddit payloads (tests/data/real, see its PROVENANCE.md) through the export path and
`counterpoint summarize --json`: what a reader of the summary would check (issue 15).

Which messages are speech is decided here independently of the code under test: Discord's numbers 0, 19, 20, 23
and DiscordChatExporter's "Default" and "Reply" (a thread starter, 21, stands for the message it references)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.errors import InputError
from bot.models import Post
from bot.summary.exports import load_export, parse_export
from tests.fakes.fake_llm import unused_base_url

REAL = Path(__file__).parent / "data" / "real"
FILES = sorted(REAL.glob("*/*.json"))
SPEECH = {0, 19, 20, 23, "Default", "Reply"}
# real files in which nobody wrote anything: a join notice, a schema sample of type 1, an embed-only message
NO_SPEECH = {"serenity_message_type_7.json", "remora_MESSAGE_schema_sample.json", "d4j_Message.json"}
SYSTEM_PHRASES = ("Joined the server", "Started a call", "Pinned a message", "Started a thread",
                  "Changed the channel", "boosted the server")  # fmt: skip
ENTITY = re.compile(r"&(gt|lt|amp|quot|#39|#x27|nbsp);")
RAW_MENTION = re.compile(r"<(@[!&]?|#)\d+>")


def _ids(path: Path) -> str:
    return path.name


def _raw_messages(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict) and isinstance(data.get("d"), dict):
        data = data["d"]
    if isinstance(data, dict) and "messages" in data:
        return list(data["messages"])
    return data if isinstance(data, list) else [data]


def _system_ids(path: Path) -> set[str]:
    if path.parent.name == "reddit":
        return set()
    return {str(m["id"]) for m in _raw_messages(path) if m.get("type", 0) not in SPEECH | {21}}


def _check_posts(path: Path, posts: list[Post]) -> None:
    assert posts
    system = _system_ids(path)
    for post in posts:
        assert post.post_id not in system, f"system message {post.post_id} taken as speech"
        assert not ENTITY.search(post.text), post.text
        assert not RAW_MENTION.search(post.text), post.text
    if path.parent.name == "reddit":
        assert all(p.url.startswith("https://www.reddit.com/r/") for p in posts)
    else:
        assert all(p.url.startswith("https://discord.com/channels/") for p in posts if _has_ids(path, p))
    keys = [int(p.post_id) if p.platform == "discord" else 0 for p in posts]
    assert keys == sorted(keys)  # oldest first by snowflake


def _has_ids(path: Path, post: Post) -> bool:
    """The file names the channel and the guild (or is a direct-message export) of this message."""
    raw = next(m for m in _raw_messages(path) if str(m["id"]) == post.post_id)
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict) and "guild" in data:
        return True
    ref = raw.get("message_reference") or {}
    return bool(raw.get("guild_id") or (ref.get("guild_id") and ref.get("channel_id") == raw.get("channel_id")))


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_library_reads_each_real_file(path: Path) -> None:
    if path.name in NO_SPEECH:
        with pytest.raises(InputError) as err:
            load_export(path)
        assert str(err.value).endswith(".") and "\n" not in str(err.value)
        assert "no messages with text" in str(err.value)
        return
    thread, posts = load_export(path)
    _check_posts(path, posts)
    if thread.platform == "reddit":
        assert thread.url.startswith("https://www.reddit.com/r/") and not ENTITY.search(thread.title)


def _summarize_json(path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", unused_base_url())
    monkeypatch.setenv("COUNTERPOINT_LLM__MAX_RETRIES", "0")
    code = main(["summarize", "--json", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_summarize_json_on_each_real_file(path: Path, capsys: Any, monkeypatch: Any) -> None:
    code, out, err = _summarize_json(path, capsys, monkeypatch)
    if path.name in NO_SPEECH:
        assert code == 2 and out == "" and "Traceback" not in err
        return
    assert code == 0, err
    doc = json.loads(out)
    summary = doc["summary"]
    text = json.dumps(summary, ensure_ascii=False)
    for phrase in SYSTEM_PHRASES:
        assert phrase not in text
    assert not ENTITY.search(text) and not RAW_MENTION.search(text)
    system = _system_ids(path)
    _, posts = load_export(path)
    by_id = {p.post_id: p for p in posts}
    for section in ("points", "disagreements", "open_questions", "framing"):
        for point in summary[section]:
            assert not set(point["source_ids"]) & system
            wanted = [by_id[i].url for i in point["source_ids"] if i in by_id and by_id[i].url]
            assert point["links"] == wanted
            assert all(summary["links"][i] == by_id[i].url for i in point["source_ids"] if by_id[i].url)
    if path.parent.name == "reddit" or "guild" in json.loads(path.read_text()):
        assert doc["thread"]["url"].startswith("https://")
        assert summary["links"], "a summary of a file with ids cites with links"


async def test_the_real_command_with_a_bom_and_as_a_process(tmp_path: Path) -> None:
    """The command as a process, on one file per format saved with a UTF-8 BOM: the same summary as without."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTERPOINT_", "REDDIT_", "DISCORD_"))}
    env |= {"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COUNTERPOINT_LLM__BASE_URL": unused_base_url(),
            "COUNTERPOINT_LLM__MAX_RETRIES": "0"}  # fmt: skip
    names = ["discord_dce/dcef_example_general.json", "discord_api/d4j_Message.Reply.json",
             "reddit/praw3_yjk55_limit130_entities.json"]  # fmt: skip

    async def run(path: Path) -> Any:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "summarize", "--json", str(path), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 90)
        assert proc.returncode == 0, err.decode()
        return json.loads(out)

    boms = []
    for name in names:
        boms.append(tmp_path / Path(name).name)
        boms[-1].write_bytes(b"\xef\xbb\xbf" + (REAL / name).read_bytes())
    docs = await asyncio.gather(*(run(path) for path in boms))
    for name, doc in zip(names, docs, strict=True):
        thread, posts = load_export(REAL / name)
        assert doc["thread"]["url"] == thread.url and doc["summary"]["message_count"] == len(posts)


# ---- what each real file teaches, one at a time -----------------------------------------------------------------


def test_system_messages_are_not_speech_in_a_real_export() -> None:
    _, posts = load_export(REAL / "discord_dce" / "dcef_example_general.json")
    assert not any("Joined the server" in p.text or "Started a thread" in p.text for p in posts)
    group = load_export(REAL / "discord_dce" / "chatanalytics_GC_3A_5M.json")[1]
    assert all(not p.text.startswith(("Started a call", "Changed the channel")) for p in group)


def test_dce_replies_become_parents_and_dm_exports_link_to_me() -> None:
    _, posts = load_export(REAL / "discord_dce" / "dcef_example_chill_talk.json")
    reply = next(p for p in posts if "delete this" in p.text)
    assert reply.parent_id in {p.post_id for p in posts}
    _, dm = load_export(REAL / "discord_dce" / "chatanalytics_DM_2A_2M.json")
    assert all(p.url.startswith("https://discord.com/channels/@me/") for p in dm)


def test_mentions_show_display_names_from_the_payload() -> None:
    _, posts = load_export(REAL / "discord_api" / "d4j_CreateMessageResponse_mentions.json")
    assert posts[0].text == "@quantic x"
    _, captured = load_export(REAL / "discord_api" / "remora_gateway_MESSAGE_CREATE_captured_2020-08-07.json")
    assert "@Amby" in captured[0].text  # the member's server nickname, not the username Jax


def test_a_forward_keeps_its_text_as_a_quote_and_is_no_reply() -> None:
    _, posts = load_export(REAL / "discord_api" / "d4j_CreateMessageWithForwardResponse.json")
    assert posts[0].text.startswith("> What is Lorem Ipsum?") and posts[0].parent_id is None


def test_a_crosspost_is_no_reply_and_channel_mentions_have_names() -> None:
    _, posts = load_export(REAL / "discord_api" / "discord_docs_example_crossposted_message.json")
    assert posts[0].parent_id is None and posts[0].text == "Big news! In this #big-news channel!"


def test_a_single_reply_object_is_a_one_message_thread_with_a_parent_and_a_link() -> None:
    thread, posts = load_export(REAL / "discord_api" / "d4j_Message.Reply.json")
    assert len(posts) == 1 and posts[0].parent_id == "775214933398782002"
    assert posts[0].url == "https://discord.com/channels/185949590652977152/563557393640849437/779520963116400721"
    assert thread.url.endswith("/563557393640849437")


def test_a_thread_starter_contributes_the_message_it_references() -> None:
    """Type 21 as Discord sends it as a thread's first message: empty, the text in referenced_message."""
    parent = json.loads((REAL / "discord_api" / "d4j_Message.json").read_text())
    reply = json.loads((REAL / "discord_api" / "d4j_Message.Reply.json").read_text())
    original = {**reply["referenced_message"], "content": "Which model should we run locally?"}
    starter = {**original, "type": 21, "content": "", "channel_id": "777", "referenced_message": original,
               "message_reference": {"message_id": original["id"], "channel_id": original["channel_id"]}}  # fmt: skip
    answer = {**parent, "id": str(int(original["id"]) + 5), "channel_id": "777", "content": "Llama, surely."}
    _, posts = parse_export(json.dumps([answer, starter]))  # newest first, as the API lists them
    assert [p.text for p in posts] == ["Which model should we run locally?", "Llama, surely."]
    assert posts[0].author_id == original["author"]["id"] and posts[0].parent_id is None


def test_api_lists_come_newest_first_and_equal_times_order_by_snowflake() -> None:
    raw = json.loads((REAL / "discord_dce" / "dcef_example_general.json").read_text())
    messages = [{**m, "timestamp": "2023-01-06T14:00:00+00:00"} for m in reversed(raw["messages"])]
    _, posts = parse_export(json.dumps({**raw, "messages": messages}))
    assert [p.post_id for p in posts] == sorted((p.post_id for p in posts), key=int)


def test_reddit_pages_without_raw_json_are_unescaped() -> None:
    thread, posts = load_export(REAL / "reddit" / "praw3_yjk55_limit130_entities.json")
    assert "(<100)" in thread.title
    assert any(">" in p.text or "&" in p.text for p in posts)
    assert not any(ENTITY.search(p.text) for p in posts)


def test_deleted_and_removed_comments_are_left_out() -> None:
    _, posts = load_export(REAL / "reddit" / "asyncpraw_gx8r8z_removed_and_deleted.json")
    assert not any(p.text.strip() in ("[deleted]", "[removed]") for p in posts)
