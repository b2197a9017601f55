"""FakeDiscord: the REST API and the gateway websocket of Discord, served by aiohttp on 127.0.0.1, so tests drive
the REAL discord.py client (pointed here with discord.api_base / discord.gateway_url).

One guild ("Fake Guild") with channels #general (a text channel), #mods, and a public thread "ai-race" under
#general; a moderator role with Manage Server; the bot user. Tests inject gateway events (MESSAGE_CREATE,
MESSAGE_DELETE, INTERACTION_CREATE ...) and read what the bot did from `requests`, `messages` and `callbacks`.

Matches discord.py 2.7's expectations (the traps): JSON bodies are served with Content-Type exactly
`application/json`; a 429 carries `Via` (without it discord.py assumes a Cloudflare ban) and a JSON body with
`retry_after`; interaction callbacks come as POST ...?with_response=1 and are answered with
{"interaction": {...}, "resource": {...}}.

Knobs: `rate_limit(method, path_regex, retry_after, times)` answers the next matching requests with 429;
`fail(method, path_regex, status, times)` answers with an error status; `recommended_shards` and
`advertised_gateway` are what GET /gateway/bot answers (the URL defaults to this fake's gateway).

Shapes checked against Discord's API documentation (github.com/discord/discord-api-docs at c98d64bc, the pages
named beside each method below): users have a distinct username and global_name (or none), members a nick;
`mentions` is filled from the `<@id>` in the content (with each mentioned user's partial member on the gateway);
a thread started from a message shares its id, arrives as THREAD_CREATE with `newly_created`, and its history
starts with a THREAD_STARTER_MESSAGE (type 21) carrying `message_reference` and `referenced_message`; a thread
created without a message leaves a THREAD_CREATED (type 18) notice in the parent channel, as "ai-race" does;
system messages (joins, boosts, pins, calls, renames) and forwards (message_snapshots) can be put in a history;
interactions carry the partial `guild` and, for user options, `data.resolved` users and members.

Sharding: a connection that IDENTIFYs with `"shard": [id, count]` gets READY/GUILD_CREATE and events only for the
guilds with `(guild_id >> 22) % count == id`, as Discord does; `add_guild(guild_id, name)` adds a guild with one
text channel, so a test can put guilds on different shards.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
BOT_ID = 900000000000000001
GUILD_ID = 910000000000000001
MANAGE_GUILD = 1 << 5
EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 16)  # view channel, send messages, read history
PERMISSION_SUMS = str(EVERYONE_PERMS)
BODY = web.RequestKey("body", object)


def iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


def user_payload(user_id: int, name: str, *, global_name: str | None = None, bot: bool = False) -> dict[str, Any]:
    """resources/user.mdx, User Object: `username` is the unique handle, `global_name` the display name (null
    when the user has not set one; bots have none)."""
    return {"id": str(user_id), "username": name, "global_name": global_name, "discriminator": "0", "avatar": None,
            "bot": bot}  # fmt: skip


MENTION = re.compile(r"<@!?(\d+)>")
# resources/message.mdx, Message Types: the system messages a channel's history holds besides speech
SYSTEM_TYPES = {"call": 3, "rename": 4, "pin": 6, "join": 7, "boost": 8, "boost_tier_1": 9, "thread_created": 18}
HAS_SNAPSHOT = 1 << 14  # message flag of a forward


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0


@dataclass
class _Knob:
    method: str
    pattern: re.Pattern[str]
    times: int
    status: int
    retry_after: float = 0.0


@dataclass
class FakeDiscord:
    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # every message by id (deleted ones removed)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # interaction callback bodies, with "_id"
    commands: list[dict[str, Any]] = field(default_factory=list)  # last synced application commands
    identifies: list[dict[str, Any]] = field(default_factory=list)
    ready_guilds: list[list[int]] = field(default_factory=list)  # per IDENTIFY: the guilds its READY listed
    heartbeats: int = 0
    recommended_shards: int = 1
    advertised_gateway: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._knobs: list[_Knob] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._shards: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self.guild_names: dict[int, str] = {GUILD_ID: "Fake Guild"}
        self._seq = 0
        self._changed = asyncio.Event()
        self.bot_user = user_payload(BOT_ID, "counterpoint", bot=True)
        self.everyone_role = {"id": str(GUILD_ID), "name": "@everyone", "permissions": PERMISSION_SUMS, "position": 0}
        self.mod_role_id = self.snowflake()
        self.roles = [self.everyone_role, {"id": str(self.mod_role_id), "name": "Mods", "position": 1,
                                           "permissions": str(EVERYONE_PERMS | MANAGE_GUILD)}]  # fmt: skip
        # three ways Discord names people: a global display name and a server nickname (alice), a global display
        # name only (bob), neither (the moderator: the username is what shows)
        self.alice = user_payload(self.snowflake(), "alice", global_name="Alice")
        self.bob = user_payload(self.snowflake(), "bob", global_name="Bob")
        self.moderator = user_payload(self.snowflake(), "mod_maria")
        self.nicks: dict[str, str] = {self.alice["id"]: "Ally"}
        self.users: dict[str, dict[str, Any]] = {u["id"]: u for u in (self.alice, self.bob, self.moderator)}
        self.starters: dict[int, dict[str, Any]] = {}  # thread id -> its type 21 first message
        self.general = self.snowflake()
        self.mods = self.snowflake()
        self.thread = self.snowflake()
        self.channels: dict[int, dict[str, Any]] = {
            self.general: self._text_channel(self.general, "general", 0),
            self.mods: self._text_channel(self.mods, "mods", 1),
            self.thread: self._thread(self.thread, self.general, "ai-race"),
        }
        # "ai-race" was created without a message: its parent keeps a THREAD_CREATED notice whose content is the
        # thread's name (resources/message.mdx, "Thread Created messages")
        self.system_payload(self.general, "thread_created", self.alice, "ai-race", reference=(self.thread, None))

    # ---- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        sock.close()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    # ---- knobs and waiting ----------------------------------------------------------------------------------

    def rate_limit(self, method: str, path_regex: str, *, retry_after: float = 0.05, times: int = 1) -> None:
        self._knobs.append(_Knob(method, re.compile(path_regex), times, 429, retry_after))

    def fail(self, method: str, path_regex: str, *, status: int = 403, times: int = 1) -> None:
        self._knobs.append(_Knob(method, re.compile(path_regex), times, status))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        """Wait until predicate() is truthy (re-checked whenever a request or socket message arrives)."""
        async with asyncio.timeout(timeout):
            while True:
                result = predicate()
                if result:
                    return result
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    async def wait_request(self, method: str, path_regex: str, timeout: float = 5.0, count: int = 1) -> Request:
        pattern = re.compile(path_regex)

        def found() -> list[Request]:
            hits = [r for r in self.requests if r.method == method and pattern.search(r.path) and r.status < 300]
            return hits[count - 1 :] if len(hits) >= count else []

        return (await self.wait_for(found, timeout, f"{method} {path_regex}"))[0]

    def sent(self, method: str = "POST", path_regex: str = r"/channels/\d+/messages$") -> list[Request]:
        """Successful requests of a kind (by default: messages the bot created in channels)."""
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and pattern.search(r.path) and 200 <= r.status < 300]

    def snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0xFFF)

    # ---- world payloads -------------------------------------------------------------------------------------

    def _text_channel(self, cid: int, name: str, position: int, guild_id: int = GUILD_ID) -> dict[str, Any]:
        return {"id": str(cid), "type": 0, "guild_id": str(guild_id), "name": name, "position": position,
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0}  # fmt: skip

    def _thread(self, cid: int, parent: int, name: str) -> dict[str, Any]:
        return {"id": str(cid), "type": 11, "guild_id": str(GUILD_ID), "name": name, "parent_id": str(parent),
                "owner_id": self.alice["id"], "message_count": 0,
                "member_count": 1, "rate_limit_per_user": 0, "last_message_id": None,
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": iso(),
                                    "locked": False}}  # fmt: skip

    def add_guild(self, guild_id: int, name: str) -> int:
        """Another guild (the bot is a member, no moderator role) with one text channel; returns the channel id."""
        self.guild_names[guild_id] = name
        cid = self.snowflake()
        self.channels[cid] = self._text_channel(cid, "general", 0, guild_id)
        return cid

    def guild_of(self, channel_id: int) -> int:
        ch = self.channels.get(channel_id)
        return int(ch["guild_id"]) if ch else GUILD_ID

    def add_thread(self, parent: int, name: str) -> int:
        """A thread the bot was never told about (not in GUILD_CREATE, no THREAD_CREATE), e.g. one revived from
        the archive: discord.py sees its messages on a PartialMessageable and must fetch it."""
        cid = self.snowflake()
        self.channels[cid] = self._thread(cid, parent, name)
        return cid

    def member(self, user: dict[str, Any], *, moderator: bool = False) -> dict[str, Any]:
        """resources/guild.mdx, Guild Member Object: `nick` is the server nickname, null when none is set."""
        roles = [str(self.mod_role_id)] if moderator else []
        perms = EVERYONE_PERMS | (MANAGE_GUILD if moderator else 0)
        return {"user": user, "roles": roles, "joined_at": iso(0), "deaf": False, "mute": False, "flags": 0,
                "nick": self.nicks.get(user["id"]), "permissions": str(perms)}  # fmt: skip

    def _mentions(self, content: str) -> list[dict[str, Any]]:
        """resources/message.mdx: `mentions` holds the users mentioned in the content (REST: plain users)."""
        ids = dict.fromkeys(MENTION.findall(content or ""))
        return [self.users[i] for i in ids if i in self.users]

    def _gateway_message(self, msg: dict[str, Any], author: dict[str, Any], moderator: bool = False) -> dict[str, Any]:
        """events/gateway-events.mdx, Message Create: adds the author's partial `member` and a partial `member`
        on each mentioned user."""
        mentions = [{**u, "member": _partial(self.member(u))} for u in msg.get("mentions", [])]
        return {**msg, "member": _partial(self.member(author, moderator=moderator)), "mentions": mentions}

    def guild_payload(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        mine = [c for c in self.channels.values() if c["guild_id"] == str(guild_id)]
        roles = self.roles if guild_id == GUILD_ID else [{**self.everyone_role, "id": str(guild_id)}]
        return {
            "id": str(guild_id), "name": self.guild_names[guild_id], "icon": None,
            "owner_id": str(self.moderator["id"]), "roles": roles, "emojis": [], "stickers": [], "features": [],
            "member_count": 4, "large": False,
            "unavailable": False, "joined_at": iso(0), "voice_states": [], "presences": [],
            "members": [self.member(self.bot_user)], "preferred_locale": "en-US",
            "channels": [c for c in mine if c["type"] != 11], "threads": [c for c in mine if c["type"] == 11],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }  # fmt: skip

    def message_payload(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str = "",
        *,
        reference: int | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        flags: int = 0,
        webhook_id: str | None = None,
        keep: bool = True,
    ) -> dict[str, Any]:
        mid, guild = self.snowflake(), str(self.guild_of(channel_id))
        msg: dict[str, Any] = {
            "id": str(mid), "channel_id": str(channel_id), "guild_id": guild, "author": author,
            "content": content, "timestamp": iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": self._mentions(content), "mention_roles": [], "attachments": [],
            "embeds": embeds or [], "components": components or [], "pinned": False, "type": 19 if reference else 0,
            "flags": flags,
        }  # fmt: skip
        if webhook_id:
            msg["webhook_id"] = webhook_id
        if reference:
            ref = self.messages.get(reference)
            msg["message_reference"] = {"type": 0, "message_id": str(reference), "channel_id": str(channel_id),
                                        "guild_id": guild}  # fmt: skip
            msg["referenced_message"] = {k: v for k, v in ref.items() if k != "member"} if ref else None
        if keep:  # interaction responses are not part of a channel's history here
            self.messages[mid] = msg
        return msg

    def system_payload(
        self, channel_id: int, kind: str, author: dict[str, Any], content: str = "", *,
        reference: tuple[int, int | None] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A system message in a channel's history (resources/message.mdx, Message Types): "join" (7, empty), "boost"
        (8, content = the number of boosts), "pin" (6, message_reference to the pinned message), "call" (3, with
        `call`), "rename" (4, content = the new name), "thread_created" (18, content = the thread's name, reference
        to the thread). `reference`: (channel id, message id or None)."""
        msg = self.message_payload(channel_id, author, content)
        msg["type"] = SYSTEM_TYPES[kind]
        if kind == "call":
            msg["call"] = {"participants": [author["id"]], "ended_timestamp": iso()}
        if reference is not None:
            ref = {"type": 0, "channel_id": str(reference[0]), "guild_id": msg["guild_id"]}
            msg["message_reference"] = ref | ({"message_id": str(reference[1])} if reference[1] else {})
        return msg

    def forward_payload(self, channel_id: int, author: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        """A forward (resources/message.mdx, Message Reference Types FORWARD and Message Snapshot Object): empty
        content, flag HAS_SNAPSHOT, message_reference type 1 to the source, and the source's text in
        message_snapshots[0].message (no id, no author)."""
        msg = self.message_payload(channel_id, author, "", flags=HAS_SNAPSHOT)
        msg["message_reference"] = {"type": 1, "message_id": source["id"], "channel_id": source["channel_id"],
                                    "guild_id": source["guild_id"]}  # fmt: skip
        keys = ("type", "content", "embeds", "attachments", "timestamp", "edited_timestamp", "flags", "mentions",
                "mention_roles", "components")  # fmt: skip
        msg["message_snapshots"] = [{"message": {k: source[k] for k in keys if k in source}}]
        return msg

    async def start_thread(self, source: dict[str, Any], name: str) -> int:
        """POST /channels/{id}/messages/{id}/threads as Discord does it (resources/channel.mdx, Start Thread from
        Message): the thread takes the source message's id; THREAD_CREATE with `newly_created: true`
        (events/gateway-events.mdx, Thread Create) and MESSAGE_UPDATE of the source (now with its `thread`). The
        thread's history starts with a THREAD_STARTER_MESSAGE (type 21): no content, `message_reference` to the
        source and the source in `referenced_message` ("Thread starter messages"). Its id is the thread's too."""
        tid, parent = int(source["id"]), int(source["channel_id"])
        self.channels[tid] = thread = self._thread(tid, parent, name)
        thread["owner_id"] = source["author"]["id"]
        starter = {**self.message_payload(tid, source["author"], "", keep=False), "id": str(tid), "type": 21,
                   "timestamp": source["timestamp"]}  # fmt: skip
        starter["message_reference"] = {"type": 0, "message_id": source["id"], "channel_id": source["channel_id"],
                                        "guild_id": source["guild_id"]}  # fmt: skip
        starter["referenced_message"] = {k: v for k, v in source.items() if k != "member"}
        self.starters[tid] = starter
        source["thread"] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        await self.dispatch("MESSAGE_UPDATE", dict(source))
        return tid

    # ---- gateway --------------------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """To every live connection, or with a guild_id only to the connection whose shard holds that guild."""
        guild = data.get("guild_id")
        for ws in list(self._sockets):
            if not ws.closed and self._serves(ws, int(guild) if guild else None):
                await self._send(ws, event, data)

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    def _serves(self, ws: web.WebSocketResponse, guild_id: int | None) -> bool:
        shard = self._shards.get(ws)
        return shard is None or guild_id is None or (guild_id >> 22) % shard[1] == shard[0]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 5000}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._gateway_op(ws, json.loads(msg.data))
                self._changed.set()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
            self._shards.pop(ws, None)
        return ws

    async def _gateway_op(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        op = data.get("op")
        if op == 1:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
        elif op == 2:
            await self._identify(ws, data["d"])
        elif op == 6:  # RESUME: no sessions kept, start over
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))

    async def _identify(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        """READY and one GUILD_CREATE per guild, on this connection only, for the guilds of its shard."""
        self.identifies.append(identify)
        self._sockets.append(ws)
        if identify.get("shard"):
            self._shards[ws] = (int(identify["shard"][0]), int(identify["shard"][1]))
        guilds = [g for g in self.guild_names if self._serves(ws, g)]
        self.ready_guilds.append(guilds)
        ready = {"v": 10, "user": self.bot_user, "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
                 "session_id": f"session-{len(self.identifies)}", "resume_gateway_url": self.gateway_url,
                 "application": {"id": str(BOT_ID), "flags": 0}}  # fmt: skip
        if identify.get("shard"):
            ready["shard"] = identify["shard"]
        await self._send(ws, "READY", ready)
        for g in guilds:
            await self._send(ws, "GUILD_CREATE", self.guild_payload(g))

    async def connected(self, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self._sockets, timeout, "a gateway connection")

    # ---- events a test injects ------------------------------------------------------------------------------

    async def user_message(
        self, channel_id: int, content: str, *, author: dict[str, Any] | None = None, reference: int | None = None,
        moderator: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """A person posts: stored in the channel's history and dispatched as MESSAGE_CREATE."""
        author = author or self.alice
        msg = self.message_payload(channel_id, author, content, reference=reference)
        await self.dispatch("MESSAGE_CREATE", self._gateway_message(msg, author, moderator))
        return msg

    async def redeliver(self, msg: dict[str, Any]) -> None:
        """The same MESSAGE_CREATE again (Discord may re-send events after a reconnect)."""
        await self.dispatch("MESSAGE_CREATE", {**msg, "member": _partial(self.member(msg["author"]))})

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        self.messages.pop(message_id, None)
        data = {"id": str(message_id), "channel_id": str(channel_id), "guild_id": str(self.guild_of(channel_id))}
        await self.dispatch("MESSAGE_DELETE", data)

    async def bulk_delete(self, channel_id: int, message_ids: list[int]) -> None:
        for mid in message_ids:
            self.messages.pop(mid, None)
        data = {"ids": [str(m) for m in message_ids], "channel_id": str(channel_id),
                "guild_id": str(self.guild_of(channel_id))}  # fmt: skip
        await self.dispatch("MESSAGE_DELETE_BULK", data)

    async def edit_message(self, message_id: int, content: str) -> None:
        msg = self.messages[message_id]
        msg.update(content=content, edited_timestamp=iso())
        await self.dispatch("MESSAGE_UPDATE", dict(msg))

    def _interaction(
        self, itype: int, data: dict[str, Any], *, user: dict[str, Any], moderator: bool, channel_id: int,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        iid, guild = self.snowflake(), str(self.guild_of(channel_id))
        member = self.member(user, moderator=moderator)
        payload = {
            "id": str(iid), "application_id": str(BOT_ID), "type": itype, "token": f"itoken-{iid}", "version": 1,
            "guild_id": guild, "guild": {"id": guild, "features": [], "locale": "en-US"},
            "channel_id": str(channel_id), "channel": self.channels[channel_id],
            "member": member, "app_permissions": str(EVERYONE_PERMS), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": guild}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024, "data": data,
        }  # fmt: skip
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(
        self, name: str, options: list[dict[str, Any]] | None = None, *, user: dict[str, Any] | None = None,
        moderator: bool = False, channel_id: int | None = None,
    ) -> str:  # fmt: skip
        """Invoke a slash command; returns the interaction id. Channel options resolve to the fake's channels."""
        channel_id = channel_id or self.general
        data: dict[str, Any] = {"id": self._command_id(name), "name": name, "type": 1, "options": options or []}
        resolved: dict[str, Any] = {}
        if channels := self._resolve_channels(options or []):
            resolved["channels"] = channels
        if users := self._resolve_users(options or []):
            # interactions/receiving-and-responding.mdx, Resolved Data Structure: members come without `user`,
            # `deaf` and `mute`, and every member's user is in `users`
            resolved["users"] = users
            resolved["members"] = {i: {k: v for k, v in self.member(u).items() if k not in ("user", "deaf", "mute")}
                                   for i, u in users.items()}  # fmt: skip
        if resolved:
            data["resolved"] = resolved
        payload = self._interaction(2, data, user=user or self.alice, moderator=moderator, channel_id=channel_id)
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def context_menu(
        self, name: str, target: dict[str, Any], *, user: dict[str, Any] | None = None, moderator: bool = False
    ) -> str:
        channel_id = int(target["channel_id"])
        data = {"id": self._command_id(name), "name": name, "type": 3, "target_id": target["id"],
                "resolved": {"messages": {target["id"]: target}}}  # fmt: skip
        payload = self._interaction(2, data, user=user or self.alice, moderator=moderator, channel_id=channel_id)
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def click(
        self, message: dict[str, Any], custom_id: str, *, user: dict[str, Any] | None = None, moderator: bool = False
    ) -> str:
        """Press a button on a message the bot sent; returns the interaction id."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(3, data, user=user or self.alice, moderator=moderator,
                                    channel_id=int(message["channel_id"]), message=message)  # fmt: skip
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def submit_modal(
        self, modal: dict[str, Any], values: dict[str, str], *, message: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None, moderator: bool = False, channel_id: int | None = None,
    ) -> str:  # fmt: skip
        """Submit a modal the bot opened (`modal` is the callback's data); values by text input custom_id."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": cid, "value": v}]} for cid, v in values.items()]
        data = {"custom_id": modal["custom_id"], "components": rows}
        channel = channel_id or (int(message["channel_id"]) if message else self.general)
        payload = self._interaction(5, data, user=user or self.alice, moderator=moderator, channel_id=channel,
                                    message=message)  # fmt: skip
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    def callback(self, interaction_id: str) -> dict[str, Any] | None:
        return next((c for c in self.callbacks if c["_id"] == interaction_id), None)

    def _command_id(self, name: str) -> str:
        for c in self.commands:
            if c.get("name") == name:
                return str(c["id"])
        return "1"

    def _resolve_users(self, options: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for opt in options:
            if opt.get("type") in (6, 9) and str(opt.get("value")) in self.users:  # USER, MENTIONABLE
                out[str(opt["value"])] = self.users[str(opt["value"])]
            out.update(self._resolve_users(opt.get("options", [])))
        return out

    def _resolve_channels(self, options: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for opt in options:
            if opt.get("type") == 7:
                ch = self.channels[int(opt["value"])]
                out[str(opt["value"])] = {**ch, "permissions": str(EVERYONE_PERMS)}
            out.update(self._resolve_channels(opt.get("options", [])))
        return out

    # ---- REST -----------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        rec = Request(request.method, request.path, dict(request.query), body, dict(request.headers))
        request[BODY] = body
        if request.path.startswith("/api/"):
            self.requests.append(rec)
        try:
            knob = self._knob(request.method, request.path)
            if knob is not None and knob.status == 429:
                body_429 = {"message": "You are being rate limited.", "retry_after": knob.retry_after, "global": False}
                resp: web.StreamResponse = _json(body_429, 429, {"Via": "1.1 google", "Retry-After": "1",
                                                                 "X-RateLimit-Scope": "user"})  # fmt: skip
            elif knob is not None:
                resp = _json({"message": "Missing Permissions", "code": 50013}, knob.status)
            else:
                resp = await handler(request)
            rec.status = resp.status
            return resp
        finally:
            self._changed.set()

    def _knob(self, method: str, path: str) -> _Knob | None:
        for knob in self._knobs:
            if knob.times > 0 and knob.method == method and knob.pattern.search(path):
                knob.times -= 1
                return knob
        return None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path, method = "/" + request.match_info["tail"], request.method
        body = request.get(BODY)
        for route_method, pattern, handler in self._routes():
            m = re.fullmatch(pattern, path)
            if m and route_method == method:
                return await handler(request, body, *m.groups())
        return _json({"message": f"404: Not Found ({method} {path})", "code": 0}, 404)

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._app),
            ("GET", r"/gateway(?:/bot)?", self._gateway_info),
            ("PUT", r"/applications/\d+(?:/guilds/\d+)?/commands", self._sync),
            ("GET", r"/channels/(\d+)", self._channel),
            ("POST", r"/channels/(\d+)/messages", self._create_message),
            ("GET", r"/channels/(\d+)/messages", self._history),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._delete_message),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._edit_webhook_message),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._get_webhook_message),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._delete_webhook_message),
        ]

    async def _me(self, request: web.Request, body: Any) -> web.Response:
        return _json(self.bot_user)

    async def _app(self, request: web.Request, body: Any) -> web.Response:
        return _json({"id": str(BOT_ID), "name": "counterpoint", "description": "", "icon": None,
                      "bot_public": False, "bot_require_code_grant": False, "owner": self.moderator,
                      "verify_key": "0" * 64, "flags": 0, "interactions_endpoint_url": None})  # fmt: skip

    async def _gateway_info(self, request: web.Request, body: Any) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        url = self.advertised_gateway or self.gateway_url
        return _json({"url": url, "shards": self.recommended_shards, "session_start_limit": limit})

    async def _sync(self, request: web.Request, body: Any) -> web.Response:
        defaults = {"description": "", "options": [], "type": 1, "dm_permission": True, "nsfw": False}
        self.commands = [{**defaults, **c, "id": str(self.snowflake()), "application_id": str(BOT_ID), "version": "1"}
                         for c in body or []]  # fmt: skip
        return _json(self.commands)

    async def _channel(self, request: web.Request, body: Any, cid: str) -> web.Response:
        ch = self.channels.get(int(cid))
        return _json(ch) if ch else _json({"message": "Unknown Channel", "code": 10003}, 404)

    async def _create_message(self, request: web.Request, body: Any, cid: str) -> web.Response:
        if int(cid) not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        ref = (body.get("message_reference") or {}).get("message_id")
        if ref and int(ref) not in self.messages:
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        msg = self.message_payload(
            int(cid), self.bot_user, body.get("content") or "", reference=int(ref) if ref else None,
            embeds=body.get("embeds"), components=body.get("components"),
        )  # fmt: skip
        await self.dispatch("MESSAGE_CREATE", {**msg, "member": _partial(self.member(self.bot_user))})
        return _json(msg)

    async def _history(self, request: web.Request, body: Any, cid: str) -> web.Response:
        limit = int(request.query.get("limit", 50))
        msgs = [m for m in self.messages.values() if m["channel_id"] == cid]
        msgs += [self.starters[int(cid)]] if int(cid) in self.starters else []
        msgs.sort(key=lambda m: int(m["id"]))
        if "after" in request.query:
            msgs = [m for m in msgs if int(m["id"]) > int(request.query["after"])][:limit][::-1]
        else:
            if "before" in request.query:
                msgs = [m for m in msgs if int(m["id"]) < int(request.query["before"])]
            msgs = msgs[::-1][:limit]
        return _json(msgs)

    async def _get_message(self, request: web.Request, body: Any, cid: str, mid: str) -> web.Response:
        msg = self.starters.get(int(cid)) if cid == mid else None
        msg = msg or self.messages.get(int(mid))
        return _json(msg) if msg else _json({"message": "Unknown Message", "code": 10008}, 404)

    async def _edit_message(self, request: web.Request, body: Any, cid: str, mid: str) -> web.Response:
        msg = self.messages.get(int(mid))
        if msg is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        msg.update({k: v for k, v in (body or {}).items() if k in ("content", "embeds", "components")})
        return _json(msg)

    async def _delete_message(self, request: web.Request, body: Any, cid: str, mid: str) -> web.Response:
        if self.messages.pop(int(mid), None) is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        return web.Response(status=204)

    async def _callback(self, request: web.Request, body: Any, iid: str, token: str) -> web.Response:
        body = dict(body or {})
        body["_id"] = iid
        self.callbacks.append(body)
        kind, data = body.get("type"), body.get("data") or {}
        ephemeral = bool(data.get("flags", 0) & 64)
        interaction = {"id": iid, "type": 2, "response_message_loading": kind == 5,
                       "response_message_ephemeral": ephemeral}  # fmt: skip
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            msg = self.message_payload(self.general, self.bot_user, data.get("content") or "",
                                       embeds=data.get("embeds"), flags=data.get("flags", 0),
                                       webhook_id=str(BOT_ID), keep=False)  # fmt: skip
            msg["_interaction"] = iid
            interaction["response_message_id"] = msg["id"]
            resource["message"] = msg
        return _json({"interaction": interaction, "resource": resource})

    async def _followup(self, request: web.Request, body: Any, app: str, token: str) -> web.Response:
        data = body or {}
        msg = self.message_payload(self.general, self.bot_user, data.get("content") or "", embeds=data.get("embeds"),
                                   flags=data.get("flags", 0), webhook_id=app, keep=False)  # fmt: skip
        msg["_token"] = token
        return _json(msg)

    async def _edit_webhook_message(
        self, request: web.Request, body: Any, app: str, token: str, mid: str
    ) -> web.Response:
        data = body or {}
        msg = self.message_payload(self.general, self.bot_user, data.get("content") or "", embeds=data.get("embeds"),
                                   webhook_id=app, keep=False)  # fmt: skip
        msg["_token"] = token
        return _json(msg)

    async def _get_webhook_message(
        self, request: web.Request, body: Any, app: str, token: str, mid: str
    ) -> web.Response:
        return _json(self.message_payload(self.general, self.bot_user, "", webhook_id=app, keep=False))

    async def _delete_webhook_message(
        self, request: web.Request, body: Any, app: str, token: str, mid: str
    ) -> web.Response:
        return web.Response(status=204)


def _partial(member: dict[str, Any]) -> dict[str, Any]:
    """The member object of a MESSAGE_CREATE comes without its user."""
    return {k: v for k, v in member.items() if k not in ("user", "permissions")}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly "application/json": discord.py compares the header verbatim, web.json_response adds a charset
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
