"""Thread exports -> (Thread, [Post]): Discord JSON exports and Reddit comment pages, format detected.

Accepted shapes:
- Discord: a list of messages as the API returns them (id, type, author, content, timestamp, mentions,
  message_reference, referenced_message, message_snapshots), one message object or a gateway MESSAGE_CREATE
  dispatch ({op, t, d}), DiscordChatExporter's {"guild", "channel", "messages": [...]} (type names, author{id, name,
  nickname}, reference{type, messageId, channelId}, forwardedMessage), or a hand-made list where author is a plain
  name and the parent is `reply_to`/`parent_id`. Only speech counts (`speech_kind`: the same rule the live bot
  uses); a thread starter stands for the message it references; forwards are kept as quoted text; mentions are
  shown with display names; only replies become parents.
- Reddit: the .json of a comment page: [listing of the submission, listing of nested comments with `replies`].
A UTF-8 byte order mark is accepted. Anything else raises InputError with one sentence naming the file and what
is wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from bot.errors import InputError
from bot.models import Post, Thread
from bot.summary.reddit_items import REDDIT_WEB, data_to_post, order_key, unescape
from bot.text import jsonsafe
from bot.text.files import read_stdin, read_user_file

REDDIT_URL = re.compile(r"^https?://([a-z0-9-]+\.)?(reddit\.com|redd\.it)/", re.IGNORECASE)


def is_reddit_url(source: str) -> bool:
    return bool(REDDIT_URL.match(source.strip()))


def load_export(source: str | Path, *, stdin: TextIO | None = None) -> tuple[Thread, list[Post]]:
    """Load a file path, `-` (stdin) or the JSON text itself; posts come back oldest first."""
    text, name = _read(source, stdin)
    return parse_export(text, name=name)


# A Reddit comment page nests five JSON levels per level of replies: the real pages in tests/data/real/reddit, cut
# where Reddit shows "continue this thread", reach 57, and a page saved with `?depth=` goes deeper. 512 holds about
# 100 levels of replies and stays well below where Python's parser raises RecursionError (about 1,000); the comment
# walk below is iterative. Model replies keep jsonsafe's default of 64.
EXPORT_MAX_DEPTH = 512


def parse_export(text: str, *, name: str = "input") -> tuple[Thread, list[Post]]:
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark, as Windows tools write one
    if not text.strip():
        raise InputError(f"{name} is empty.")
    try:
        data = jsonsafe.loads(text, max_depth=EXPORT_MAX_DEPTH)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    data = _unwrap_discord(data)
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
        return read_stdin(stdin, encoding="utf-8-sig"), "stdin"
    if isinstance(source, str) and source.lstrip()[:1] in ("[", "{"):
        return source, "input"
    path = Path(source)
    text = read_user_file(path, name=str(path), folder="is a directory, not an export file", encoding="utf-8-sig")
    return text, str(path)


def _dedup_sorted(posts: list[Post]) -> list[Post]:
    """Oldest first by id where ids are counters (Discord snowflakes, Reddit base36 with the time first): API
    lists come newest first and timestamps tie. Other ids (hand-made files): by time, ties in file order."""
    seen: dict[str, Post] = {}
    for p in posts:
        seen.setdefault(p.post_id, p)
    unique = list(seen.values())
    if all(p.platform == "discord" and p.post_id.isdigit() for p in unique):
        return sorted(unique, key=lambda p: int(p.post_id))
    if all(p.platform == "reddit" for p in unique):
        return sorted(unique, key=order_key)
    return sorted(unique, key=lambda p: p.created_at)


def _time(value: Any, name: str, post_id: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(str(value).strip())
    except (TypeError, ValueError, OverflowError, OSError):
        raise InputError(f"{name}: message {post_id} has an unreadable timestamp {value!r}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- which Discord messages are speech: one rule for exports and the live bot ---------------------------------

SPEECH_TYPES = frozenset({0, 19, 20, 23})  # default, reply, chat-input command, context-menu command
STARTER_TYPE = 21  # THREAD_STARTER_MESSAGE: empty itself, its text is the referenced (parent channel) message
_DCE_SPEECH = frozenset({"default", "reply", "chatinputcommand", "contextmenucommand"})
_DCE_STARTER = frozenset({"threadstartermessage"})
IS_CROSSPOST = 1 << 1  # message flag: a copy of a message published in a followed announcement channel
SpeechKind = Literal["speech", "starter", "system"]


def speech_kind(message_type: Any) -> SpeechKind:
    """What a Discord message type means for a summary. `message_type`: the API's number, DiscordChatExporter's
    name ("Default", "Reply", "GuildMemberJoin" ...), a discord.MessageType, or None (hand-made lists: speech).
    "speech": what someone said (default, reply, command replies with content); "starter": a thread's first
    message, whose text is the message it references; "system": joins, boosts, pins, calls, renames, thread-created
    notices and every other type, whatever their content says."""
    if message_type is None:
        return "speech"
    value = getattr(message_type, "value", message_type)  # discord.MessageType
    if isinstance(value, str):
        key = value.strip().replace("_", "").replace(" ", "").lower()
        if not key.isdigit():
            return "speech" if key in _DCE_SPEECH else "starter" if key in _DCE_STARTER else "system"
        value = int(key)  # DiscordChatExporter writes types it has no name for as numbers
    if isinstance(value, bool) or not isinstance(value, int):
        return "system"
    return "speech" if value in SPEECH_TYPES else "starter" if value == STARTER_TYPE else "system"


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CHANNEL_MENTION = re.compile(r"<#(\d+)>")


def render_mentions(text: str, users: Mapping[str, str], channels: Mapping[str, str] | None = None) -> str:
    """`<@id>` -> @display name (from the message's own `mentions`), `<#id>` -> #channel, `<@&id>` -> @role, as
    the Discord client shows them; an id the message does not name becomes @unknown-user."""
    text = _USER_MENTION.sub(lambda m: "@" + users.get(m.group(1), "unknown-user"), text)
    text = _ROLE_MENTION.sub("@role", text)
    return _CHANNEL_MENTION.sub(lambda m: "#" + (channels or {}).get(m.group(1), "channel"), text)


def display_name(user: Any, member: Any = None) -> str:
    """The name Discord shows: the server nickname, else the global display name, else the username."""
    member = member if isinstance(member, dict) else {}
    if not isinstance(user, dict):
        return str(user or "")
    name = member.get("nick") or user.get("nickname") or user.get("global_name") or user.get("username")
    return str(name or user.get("name") or user.get("id") or "")


def quoted(text: str) -> str:
    """Forwarded text, as a quote under what the forwarder wrote."""
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def with_forward(own: str, forwarded: list[str]) -> str:
    parts = [own.strip()] if own.strip() else []
    parts += [quoted(f) for f in forwarded if f.strip()]
    return "\n".join(parts)


def jump_link(guild_id: str, channel_id: str, message_id: str = "") -> str:
    """https://discord.com/channels/<guild or @me>/<channel>[/<message>]; "" when the channel is unknown."""
    if not channel_id or not guild_id:
        return ""
    return f"https://discord.com/channels/{guild_id}/{channel_id}" + (f"/{message_id}" if message_id else "")


# ---- Discord exports -----------------------------------------------------------------------------------------

_DM_CHANNELS = frozenset({"DirectTextChat", "DirectGroupTextChat", "1", "3"})


def _unwrap_discord(data: Any) -> Any:
    """A gateway dispatch {op, t, d} -> its message; one message object -> a one-message list."""
    if isinstance(data, dict) and isinstance(data.get("d"), dict) and "op" in data:
        data = data["d"]
    if isinstance(data, dict) and "messages" not in data and "id" in data and ("content" in data or "author" in data):
        return [data]
    return data


def _is_discord(data: Any) -> bool:
    messages = data.get("messages") if isinstance(data, dict) else data
    if not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
        return False
    if not messages:  # an empty list, or DiscordChatExporter's shape with no messages
        return isinstance(data, list) or "guild" in data or "channel" in data or "messages" in data
    return any("content" in m or "author" in m for m in messages)


def _discord(data: Any, name: str) -> tuple[Thread, list[Post]]:
    channel = data.get("channel", {}) if isinstance(data, dict) else {}
    guild = data.get("guild", {}) if isinstance(data, dict) else {}
    messages = data["messages"] if isinstance(data, dict) else data
    if not messages:
        raise InputError(f"{name}: the export has no messages.")
    channel = channel if isinstance(channel, dict) else {}
    guild = guild if isinstance(guild, dict) else {}
    first = messages[0]
    channel_id = str(channel.get("id") or first.get("channel_id") or "")
    guild_id = str((guild.get("id") if guild else None) or first.get("guild_id") or _guild_of_channel(messages))
    if str(channel.get("type", "")) in _DM_CHANNELS or guild_id == "0":
        guild_id = ""  # direct messages: no server; links go to @me
        link_guild = "@me"
    else:
        link_guild = guild_id
    thread_id = channel_id or "export"
    posts: list[Post] = []
    system = 0
    for i, m in enumerate(messages, 1):
        post = _discord_post(m, i, name, thread_id=thread_id, channel_id=channel_id, guild_id=guild_id,
                             link_guild=link_guild)  # fmt: skip
        posts += [post] if post else []
        system += speech_kind(m.get("type")) == "system"
    if not posts and system:
        raise InputError(
            f"{name} contains no messages with text, only system notices (joins, pins, calls and the like)."
        )
    title = str(channel.get("name") or channel.get("topic") or "")
    url = jump_link(link_guild, channel_id)
    return Thread("discord", thread_id, title=title, channel_id=channel_id, guild_id=guild_id, url=url), posts


def _guild_of_channel(messages: list[dict]) -> str:
    """REST messages carry no guild_id, but a reference to a message of the same channel names its guild."""
    for m in messages:
        ref = m.get("message_reference")
        if isinstance(ref, dict) and ref.get("guild_id") and str(ref.get("channel_id")) == str(m.get("channel_id")):
            return str(ref["guild_id"])
    return ""


def _discord_post(
    m: dict, i: int, name: str, *, thread_id: str, channel_id: str, guild_id: str, link_guild: str
) -> Post | None:
    if m.get("id") in (None, ""):
        raise InputError(f"{name}: message #{i} has no id.")
    post_id = str(m["id"])
    kind = speech_kind(m.get("type"))
    if kind == "system":
        return None  # joins, boosts, pins, calls, renames, thread-created notices: nobody said them
    text = m.get("content", m.get("text"))
    if text is not None and not isinstance(text, str):
        raise InputError(f"{name}: message {post_id} has content that is not text.")
    source = m
    if kind == "starter":  # the thread's first message carries the parent channel's message
        ref = m.get("referenced_message") or m.get("referencedMessage")
        source = ref if isinstance(ref, dict) else {}
        text = source.get("content")
        text = text if isinstance(text, str) else ""
    text = render_mentions(text or "", _mention_names(source), _channel_names(source))
    text = with_forward(text, _forwarded(m))
    if not text.strip():
        return None  # attachment-only messages: nothing to summarize
    author_id, author_name, is_bot = _discord_author(source.get("author") or m.get("author"), source.get("member"))
    ts = m.get("timestamp", m.get("created_at"))
    if ts is None:
        raise InputError(f"{name}: message {post_id} has no timestamp.")
    own_channel = str(m.get("channel_id") or channel_id)
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
        parent_id=_discord_parent(m, kind, own_channel),
        author_is_bot=is_bot,
        url=jump_link(str(m.get("guild_id") or link_guild), own_channel, post_id) if post_id.isdigit() else "",
    )


def _discord_author(author: Any, member: Any = None) -> tuple[str, str, bool]:
    if isinstance(author, dict):
        name = display_name(author, member) or "unknown"
        return str(author.get("id") or name), name, bool(author.get("bot") or author.get("isBot"))
    if isinstance(author, str) and author:
        return author, author, False
    return "unknown", "unknown", False


def _mention_names(m: dict) -> dict[str, str]:
    mentions = m.get("mentions")
    if not isinstance(mentions, list):
        return {}
    return {str(u["id"]): display_name(u, u.get("member")) for u in mentions if isinstance(u, dict) and u.get("id")}


def _channel_names(m: dict) -> dict[str, str]:
    channels = m.get("mention_channels")
    if not isinstance(channels, list):
        return {}
    return {str(c["id"]): str(c.get("name") or "channel") for c in channels if isinstance(c, dict) and c.get("id")}


def _forwarded(m: dict) -> list[str]:
    """The forwarded message's text: the API's message_snapshots, DiscordChatExporter's forwardedMessage."""
    out = []
    for snap in m.get("message_snapshots") or []:
        inner = snap.get("message") if isinstance(snap, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("content"), str):
            out.append(render_mentions(inner["content"], _mention_names(inner)))
    fwd = m.get("forwardedMessage")
    if isinstance(fwd, dict) and isinstance(fwd.get("content"), str):
        out.append(fwd["content"])
    return out


def is_reply_reference(ref: Any, *, flags: Any = 0, channel_id: str = "") -> bool:
    """A message_reference (API) or reference (DiscordChatExporter) that makes its message a reply. Forwards
    (type 1 / "Forward"), crossposts (flag IS_CROSSPOST, or a reference to another channel) and references without
    a message id (a thread-created notice's) are not replies."""
    if not isinstance(ref, dict) or not (ref.get("message_id") or ref.get("messageId")):
        return False
    kind = ref.get("type", 0)
    if kind not in (0, None, "0", "Default", "Reply"):
        return False
    if isinstance(flags, int) and flags & IS_CROSSPOST:
        return False
    other = str(ref.get("channel_id") or ref.get("channelId") or "")
    return not (other and channel_id and other != channel_id)


def _discord_parent(m: dict, kind: SpeechKind, channel_id: str) -> str | None:
    if kind == "starter":
        return None  # its reference is the message it stands for, not something it answers
    ref = m.get("message_reference") or m.get("reference")
    if ref is not None:
        if not is_reply_reference(ref, flags=m.get("flags") or 0, channel_id=channel_id):
            return None
        return str(ref.get("message_id") or ref.get("messageId"))
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
    title = unescape(str(s.get("title") or ""))  # pages fetched without raw_json=1 escape it
    thread = Thread("reddit", f"t3_{s['id']}", title, str(s.get("subreddit") or ""), url=url)
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
