"""The watcher: every message in a watched channel (or one of its threads) goes through the pipeline, and the
decision is carried out: a reply in the thread, a shadow note for moderators, or an item in the review queue.

discord.py runs every listener call as its own task, so a burst of messages would become as many concurrent
pipeline runs. The listener only filters and queues; a few workers judge. The queue is bounded: when it is full a
message is stored without being judged (nothing is lost, the burst is shed), with one log line per overflow. On
unload (the bot closing) what is queued is handled first, within DRAIN_SECONDS."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.models import Decision, Thread
from bot.summary.exports import speech_kind

from .common import NONE, message_to_post, mod_channel
from .render import shadow_embed
from .replies import CounterpointView, deliver_reply

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Post

log = logging.getLogger(__name__)
QUEUE_LIMIT = 1000  # messages waiting to be judged; past this they are stored only
WORKERS = 4  # messages judged at once (the store lock and the model semaphore bound the rest)
DRAIN_SECONDS = 20.0
Job = tuple[discord.Message, Any, "Post"]


class Watcher(commands.Cog):
    def __init__(self, bot: CounterpointBot, *, queue_limit: int = QUEUE_LIMIT, workers: int = WORKERS) -> None:
        self.bot = bot
        self._threads_seen: set[str] = set()
        self._watched: dict[str, asyncio.Future[frozenset[str]]] = {}  # guild id -> channels added with /watch
        self._queue: asyncio.Queue[Job] = asyncio.Queue(queue_limit)
        self._worker_count = workers
        self._workers: list[asyncio.Task[None]] = []
        self._overflowing = False

    async def cog_load(self) -> None:
        self._workers = [asyncio.create_task(self._work(), name=f"watcher-{i}") for i in range(self._worker_count)]

    async def cog_unload(self) -> None:
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                await self._queue.join()
        except TimeoutError:
            log.warning("watcher: %d queued messages not judged at shutdown", self._queue.qsize())
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def is_watched(self, channel: Any) -> bool:
        """The channel itself, or the parent of a thread, is watched (settings or /watch add)."""
        guild = getattr(channel, "guild", None)
        if guild is None:
            return False
        ids = {str(channel.id)}
        if isinstance(channel, discord.Thread):
            ids.add(str(channel.parent_id))
        if ids & set(self.bot.settings.discord.watch_channels):
            return True
        return not ids.isdisjoint(await self._watched_in(str(guild.id)))

    async def _watched_in(self, guild_id: str) -> frozenset[str]:
        """The guild's /watch channels, read once and kept until /watch changes them: not a query per message.
        The lookup itself is shared, so a burst arriving before it returns waits for it instead of asking too.
        (A guild's /watch runs on the process that handles its shard, so this process sees every change.)"""
        lookup = self._watched.get(guild_id)
        if lookup is None:
            lookup = asyncio.ensure_future(self._read_watched(guild_id))
            self._watched[guild_id] = lookup
        try:
            return await asyncio.shield(lookup)
        except Exception:
            if self._watched.get(guild_id) is lookup:
                del self._watched[guild_id]  # a failed read is not kept: the next message asks again
            raise

    async def _read_watched(self, guild_id: str) -> frozenset[str]:
        return frozenset(c for _, c in await self.bot.resources.store.watched(guild_id))

    @commands.Cog.listener()
    async def on_counterpoint_watch_changed(self, guild_id: str) -> None:
        self._watched.pop(guild_id, None)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.guild is None or (me is not None and message.author.id == me.id):
            return
        if speech_kind(message.type) != "speech":
            return  # system notices; a thread's starter copy was judged in the parent channel already
        channel = await self._full_channel(message.channel)
        if not await self.is_watched(channel):
            return
        post = message_to_post(message, channel)
        if post is None:
            return  # nothing written (an attachment or sticker alone)
        try:
            self._queue.put_nowait((message, channel, post))
        except asyncio.QueueFull:
            if not self._overflowing:
                self._overflowing = True
                log.warning("watcher queue full (%d waiting): storing new messages unjudged until it drains",
                            self._queue.maxsize)  # fmt: skip
            await self.bot.resources.store.add_post(post)

    async def _work(self) -> None:
        while True:
            message, channel, post = await self._queue.get()
            try:
                await self._judge(message, channel, post)
            except Exception:  # the error boundary for one message; the worker goes on
                log.exception("watcher: handling message %s failed", post.post_id)
            finally:
                self._queue.task_done()
            if self._overflowing and self._queue.empty():
                self._overflowing = False
                log.info("watcher queue drained; judging every message again")

    async def _judge(self, message: discord.Message, channel: Any, post: Post) -> None:
        await self._remember_thread(channel, post)
        pipeline = self.bot.resources.pipeline
        policy = await pipeline.policy("discord", post.guild_id, post.channel_id)
        decision = await pipeline.handle(post, policy=policy, parent_text=await self._parent_text(message, post))
        log.debug("message %s: %s (%s)", post.post_id, decision.action, decision.reason)
        await self.carry_out(decision, channel)

    async def _full_channel(self, channel: Any) -> Any:
        """A thread discord.py has not cached (e.g. revived from the archive) arrives as a PartialMessageable,
        without its parent: fetch it (one GET per such message) so the parent channel's watch and settings apply."""
        if not isinstance(channel, discord.PartialMessageable):
            return channel
        try:
            return await self.bot.fetch_channel(channel.id)
        except discord.HTTPException as exc:
            log.warning("channel %s is not readable: %s", channel.id, exc)
            return channel

    async def carry_out(self, decision: Decision, channel: discord.abc.Messageable) -> None:
        if decision.action == "reply":
            await deliver_reply(self.bot, decision, channel)
        elif decision.action == "shadow":
            await self._shadow(decision)
        elif decision.action == "queue":
            # the moderation cog posts it to the moderators' channel with Approve / Reject (or, when the post joined
            # an item already posted, refreshes that message)
            self.bot.dispatch("counterpoint_review", decision.review_id or 0)
        elif decision.flood:
            # past the moderators' limits: counted into one line to the moderators, not queued
            self.bot.dispatch("counterpoint_flood", decision.post)

    async def _shadow(self, decision: Decision) -> None:
        pipeline, post = self.bot.resources.pipeline, decision.post
        channel = await mod_channel(self.bot, post.guild_id)
        if channel is None:
            # nowhere to show it: keep it in the review queue, where the digest and /review list it
            await pipeline.requeue(decision, "shadow mode, no moderator channel")
            return
        try:
            sent = await channel.send(embed=shadow_embed(decision), allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning("could not post the shadow note for %s: %s", post.post_id, exc)
            await pipeline.failed(decision)
            return
        await pipeline.sent(decision, str(sent.id))
        await self.bot.resources.store.remember_bot_message(
            "discord", str(sent.id), str(sent.channel.id), [(post.platform, post.post_id)], kind="shadow"
        )

    async def _parent_text(self, message: discord.Message, post: Post) -> str | None:
        """The text this post replies to: stored, else the copy Discord sent along with the reply."""
        if post.parent_id is None:
            return None
        stored = await self.bot.resources.store.get_post("discord", post.parent_id)
        if stored is not None and stored.text:
            return stored.text
        resolved = message.reference.resolved if message.reference else None
        return (resolved.content or None) if isinstance(resolved, discord.Message) else None

    async def _remember_thread(self, channel: Any, post: Post) -> None:
        """Thread names for the digest, written once per thread and process."""
        if post.thread_id in self._threads_seen:
            return
        self._threads_seen.add(post.thread_id)
        name = str(getattr(channel, "name", "") or "")
        url = str(getattr(channel, "jump_url", "") or "")
        thread = Thread("discord", post.thread_id, name, post.channel_id, post.guild_id, url)
        await self.bot.resources.store.upsert_thread(thread)


async def setup(bot: CounterpointBot) -> None:
    bot.add_view(CounterpointView())  # buttons on replies sent before a restart keep working
    await bot.add_cog(Watcher(bot))
