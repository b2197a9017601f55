"""The watcher: every message in a watched channel (or one of its threads) goes through the pipeline, and the
decision is carried out: a reply in the thread, a shadow note for moderators, or an item in the review queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.models import Decision, Thread
from cogs.common import NONE, message_to_post, mod_channel
from cogs.render import shadow_embed
from cogs.replies import CounterpointView, deliver_reply

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Post

log = logging.getLogger(__name__)
ANSWERABLE = (discord.MessageType.default, discord.MessageType.reply)


class Watcher(commands.Cog):
    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot
        self._threads_seen: set[str] = set()

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
        return any(c in ids for _, c in await self.bot.resources.store.watched(str(guild.id)))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.guild is None or (me is not None and message.author.id == me.id):
            return
        if message.type not in ANSWERABLE:
            return
        channel = await self._full_channel(message.channel)
        if not await self.is_watched(channel):
            return
        post = message_to_post(message, channel)
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
            # the moderation cog posts it to the moderators' channel with Approve / Reject
            self.bot.dispatch("counterpoint_review", int(decision.extra.get("review_id", 0)))

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
