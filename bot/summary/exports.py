"""Thread exports -> (Thread, [Post]): Discord JSON exports and Reddit comment pages, format detected.

Accepted shapes:
- Discord: a list of messages as the API returns them (id, author{id, username}, content, timestamp,
  message_reference{message_id}), DiscordChatExporter's {"guild", "channel", "messages": [...]} (author{id, name},
  reference{messageId}), or a hand-made list where author is a plain name and the parent is `reply_to`/`parent_id`.
- Reddit: the .json of a comment page: [listing of the submission, listing of nested comments with `replies`].
Anything else raises InputError with one sentence naming the file and what is wrong.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.errors import InputError
from bot.models import Post, Thread
from bot.reddit.convert import (
    REDDIT_WEB,
    data_to_post,
)

REDDIT_URL = re.compile(r"^https?://([a-z0-9-]+\.)?(reddit\.com|redd\.it)/", re.IGNORECASE)


def is_reddit_url(source: str) -> bool:
    return bool(REDDIT_URL.match(source.strip()))


def load_export(source: str | Path, *, stdin: TextIO | None = None) -> tuple[Thread, list[Post]]:
    """Load a file path, `-` (stdin) or the JSON text itself; posts come back oldest first."""
    text, name = _read(source, stdin)
    return parse_export(text, name=name)


def parse_export(text: str, *, name: str = "input") -> tuple[Thread, list[Post]]:
    if not text.strip():
        raise InputError(f"{name} is empty.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    if _is_reddit(data):
        thread, posts = _reddit(data, name)
    elif _is_discord(data):
        thread, posts = _discord(data, name)
    else:
        raise InputError(
            f'{name} is neither a Discord message export (a list of messages or {{"messages": [...]}}) '
            "nor a Reddit comment page (the .json of a /comments/ URL)."
        )
    if not posts:
        raise InputError(f"{name} contains no messages with text.")
    return thread, _dedup_sorted(posts)


def _read(source: str | Path, stdin: TextIO | None) -> tuple[str, str]:
    if isinstance(source, str) and source == "-":
        return (stdin or sys.stdin).read(), "stdin"
    if isinstance(source, str) and source.lstrip()[:1] in ("[", "{"):
        return source, "input"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not an export file.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror}).") from None


def _dedup_sorted(posts: list[Post]) -> list[Post]:
    seen: dict[str, Post] = {}
    for p in posts:
        seen.setdefault(p.post_id, p)
    # stable: equal timestamps keep the export's order
    return sorted(seen.values(), key=lambda p: p.created_at)


def _time(value: Any, name: str, post_id: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(str(value).strip())
    except (TypeError, ValueError, OverflowError, OSError):
        raise InputError(f"{name}: message {post_id} has an unreadable timestamp {value!r}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- Discord -----------------------------------------------------------------------------------------------


def _is_discord(data: Any) -> bool:
    messages = data.get("messages") if isinstance(data, dict) else data
    if not (isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages)):
        return False
    return any("content" in m or "author" in m for m in messages)


def _discord(data: Any, name: str) -> tuple[Thread, list[Post]]:
    channel = data.get("channel", {}) if isinstance(data, dict) else {}
    guild = data.get("guild", {}) if isinstance(data, dict) else {}
    messages = data["messages"] if isinstance(data, dict) else data
    channel = channel if isinstance(channel, dict) else {}
    guild = guild if isinstance(guild, dict) else {}
    first = messages[0]
    channel_id = str(channel.get("id") or first.get("channel_id") or "")
    guild_id = str((guild.get("id") if guild else None) or first.get("guild_id") or "")
    thread_id = channel_id or "export"
    posts = [
        p
        for i, m in enumerate(messages, 1)
        if (p := _discord_post(m, i, name, thread_id=thread_id, channel_id=channel_id, guild_id=guild_id))
    ]
    title = str(channel.get("name") or channel.get("topic") or "")
    return Thread("discord", thread_id, title=title, channel_id=channel_id, guild_id=guild_id), posts


def _discord_post(m: dict, i: int, name: str, *, thread_id: str, channel_id: str, guild_id: str) -> Post | None:
    if m.get("id") in (None, ""):
        raise InputError(f"{name}: message #{i} has no id.")
    post_id = str(m["id"])
    text = m.get("content", m.get("text"))
    if text is not None and not isinstance(text, str):
        raise InputError(f"{name}: message {post_id} has content that is not text.")
    if not text or not text.strip():
        return None  # joins, pins, attachment-only messages: nothing to summarize
    author_id, author_name, is_bot = _discord_author(m.get("author"))
    ts = m.get("timestamp", m.get("created_at"))
    if ts is None:
        raise InputError(f"{name}: message {post_id} has no timestamp.")
    return Post(
        platform="discord",
        post_id=post_id,
        thread_id=thread_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        created_at=_time(ts, name, post_id),
        channel_id=channel_id,
        guild_id=guild_id,
        parent_id=_discord_parent(m),
        author_is_bot=is_bot,
    )


def _discord_author(author: Any) -> tuple[str, str, bool]:
    if isinstance(author, dict):
        name = author.get("global_name") or author.get("nickname") or author.get("username") or author.get("name")
        name = str(name or author.get("id") or "unknown")
        return str(author.get("id") or name), name, bool(author.get("bot") or author.get("isBot"))
    if isinstance(author, str) and author:
        return author, author, False
    return "unknown", "unknown", False


def _discord_parent(m: dict) -> str | None:
    ref = m.get("message_reference") or m.get("reference")
    if isinstance(ref, dict):
        parent = ref.get("message_id") or ref.get("messageId")
        return str(parent) if parent else None
    for key in ("reply_to", "reply-to", "parent_id"):
        if m.get(key):
            return str(m[key])
    return None


# ---- Reddit ------------------------------------------------------------------------------------------------


def _is_reddit(data: Any) -> bool:
    return (
        isinstance(data, list)
        and len(data) == 2
        and all(isinstance(x, dict) and x.get("kind") == "Listing" for x in data)
    )


def _children(listing: Any) -> list[dict]:
    if not isinstance(listing, dict):
        return []  # Reddit sends "" for a comment without replies
    children = (listing.get("data") or {}).get("children") or []
    return [c for c in children if isinstance(c, dict)]


def _reddit(data: list, name: str) -> tuple[Thread, list[Post]]:
    subs = [c for c in _children(data[0]) if c.get("kind") == "t3"]
    if not subs or not isinstance(subs[0].get("data"), dict) or not subs[0]["data"].get("id"):
        raise InputError(f"{name} looks like a Reddit page but its first listing holds no submission.")
    s = subs[0]["data"]
    url = REDDIT_WEB + s["permalink"] if s.get("permalink") else ""
    thread = Thread("reddit", f"t3_{s['id']}", str(s.get("title") or ""), str(s.get("subreddit") or ""), url=url)
    posts = [_reddit_post(d, name, thread.thread_id) for d in (s, *_walk(_children(data[1])))]
    return thread, [p for p in posts if p.text.strip()]  # [deleted]/[removed] bodies come back empty


def _walk(children: list[dict]) -> Iterator[dict]:
    """Depth-first over nested comments without recursion; 'more' stubs carry no text and are skipped."""
    stack = list(reversed(children))
    while stack:
        child = stack.pop()
        if child.get("kind") != "t1" or not isinstance(child.get("data"), dict):
            continue
        yield child["data"]
        stack.extend(reversed(_children(child["data"].get("replies"))))


def _reddit_post(d: dict, name: str, thread_id: str) -> Post:
    """The same conversion the live Reddit stream uses (bot.reddit.convert), with one-sentence input errors."""
    created = d.get("created_utc", d.get("created"))
    if created is None:
        raise InputError(f"{name}: comment {d.get('id', '?')} has no created_utc time.")
    try:
        return data_to_post({**d, "created_utc": created, "link_id": d.get("link_id") or thread_id})
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{name}: comment {d.get('id', '?')} cannot be read ({exc}).") from None
