"""/summarize and the "Summarize thread" message menu: defer at once, read the history, summarize with progress
notes on long threads, follow up with the summary and numbered jump links."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError, RedditError
from bot.models import Post, Thread, utcnow
from bot.summary.exports import is_reddit_url

from .common import NONE, message_to_post
from .render import summary_pieces

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot, RedditHook

log = logging.getLogger(__name__)

DEFAULT_MESSAGES, MAX_MESSAGES = 200, 1000
PROGRESS_FROM = 100  # messages: shorter threads are done before a progress note would help
PROGRESS_EVERY = 3.0  # seconds between two progress edits (each is an API call)
MAX_PIECES = 8
STAGES = {"map": "reading parts", "reduce": "merging", "update": "adding new messages"}
_SINCE = re.compile(r"^\s*(\d{1,4})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    m = _SINCE.match(text)
    if not m:
        raise InputError("Give the time as a number and a unit, like 30m, 2h, 1d or 1w.")
    return (now or utcnow()) - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})


async def fetch_reddit_thread(reddit: RedditHook | None, url: str) -> tuple[Thread, list[Post]]:
    """Through the Reddit front door's `summarize_url(url) -> (Thread, [Post])`; its failures become one sentence."""
    if not is_reddit_url(url):
        raise InputError("That is not a Reddit thread URL (https://www.reddit.com/r/<sub>/comments/<id>/...).")
    if reddit is None:
        raise InputError("Reddit is not configured on this bot.")
    try:
        thread, posts = await reddit.summarize_url(url)
    except RedditError as exc:  # str() is one sentence, told to the user
        log.warning("Reddit thread %s: %s", url, exc)
        raise InputError(f"Reddit did not give me that thread: {str(exc)[:300]}") from exc
    return thread, posts


class Progress:
    """The Summarizer's progress callback (sync): edits the deferred response now and then, never concurrently."""

    def __init__(
        self, interaction: discord.Interaction[Any], count: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interaction, self.count, self.clock = interaction, count, clock
        self.shown = False
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if now - self._last < PROGRESS_EVERY or (self._task is not None and not self._task.done()):
            return
        self._last = now
        text = f"Summarizing {self.count} messages… {STAGES.get(stage, stage)} {done}/{total}"
        self._task = asyncio.get_running_loop().create_task(self._edit(text))

    async def _edit(self, text: str) -> None:
        try:
            await self.interaction.edit_original_response(content=text)
            self.shown = True
        except discord.HTTPException as exc:
            log.debug("progress edit failed: %s", exc)

    async def finish(self) -> None:
        if self._task is not None:
            await asyncio.wait([self._task], timeout=5)
        if self.shown:
            await self._edit(f"Summary of {self.count} messages below.")


class Summaries(commands.Cog):
    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Summarize thread", callback=self.summarize_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="summarize")
    @app_commands.guild_only()
    @app_commands.describe(
        messages=f"How many recent messages to read (default {DEFAULT_MESSAGES}, at most {MAX_MESSAGES})",
        since="Only messages newer than this, like 30m, 2h or 1d",
        public="Post the summary for everyone here (default: only you see it)",
        url="A Reddit thread URL to summarize instead of this channel",
    )
    async def summarize(
        self,
        interaction: discord.Interaction[Any],
        messages: app_commands.Range[int, 1, MAX_MESSAGES] | None = None,
        since: str | None = None,
        public: bool = False,
        url: str | None = None,
    ) -> None:
        """Summarize this channel or thread: main points, disagreements, open questions, with links."""
        after = parse_since(since) if since else None  # a typo is answered before deferring, privately
        await interaction.response.defer(ephemeral=not public, thinking=True)
        if url:
            thread, posts = await fetch_reddit_thread(self.bot.reddit, url)
            await self._send_summary(interaction, posts, thread.thread_id, ephemeral=not public)
            return
        channel = interaction.channel
        if not isinstance(channel, discord.abc.Messageable) or channel is None:
            raise InputError("I cannot read this channel.")
        posts = await self.read_history(channel, limit=messages or DEFAULT_MESSAGES, after=after)
        await self._send_summary(interaction, posts, str(getattr(channel, "id", "")), ephemeral=not public)

    async def summarize_message(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """The thread started from this message, or else the channel it is in (only you see the result)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel: Any = message.thread or message.channel
        posts = await self.read_history(channel, limit=DEFAULT_MESSAGES)
        await self._send_summary(interaction, posts, str(channel.id), ephemeral=True)

    async def read_history(self, channel: Any, *, limit: int, after: datetime | None = None) -> list[Post]:
        """The latest messages as Posts, oldest first; stored; opted-out authors and the bot itself left out."""
        me = str(self.bot.user.id) if self.bot.user else ""
        messages = [m async for m in channel.history(limit=limit, after=after)]
        messages.sort(key=lambda m: m.id)  # snowflakes: Discord's own order
        posts = [p for m in messages if (p := message_to_post(m)) is not None and p.author_id != me]
        # one transaction for the whole read, one opt-out query for all its authors
        opted = await self.bot.resources.store.add_posts(posts)
        return [p for p in posts if (p.platform, p.author_id) not in opted]

    async def _send_summary(
        self, interaction: discord.Interaction[Any], posts: list[Post], thread_id: str, *, ephemeral: bool
    ) -> None:
        if not posts:
            await interaction.followup.send("There are no messages here I can summarize.", ephemeral=True)
            return
        progress = Progress(interaction, len(posts)) if len(posts) >= PROGRESS_FROM else None
        summary = await self.bot.resources.summarizer.summarize(posts, thread_id=thread_id, progress=progress)
        if progress is not None:
            await progress.finish()
        links = {p.post_id: p.url for p in posts}
        pieces = summary_pieces(summary, links.get)
        if len(pieces) > MAX_PIECES:
            pieces = [*pieces[: MAX_PIECES - 1], f"… {len(pieces) - MAX_PIECES + 1} more parts left out."]
        for piece in pieces:
            await interaction.followup.send(piece, ephemeral=ephemeral, allowed_mentions=NONE, suppress_embeds=True)
        log.info("summarized %d messages of %s (%s)", len(posts), thread_id, summary.engine)


async def setup(bot: CounterpointBot) -> None:
    await bot.add_cog(Summaries(bot))
