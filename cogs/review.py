"""The review queue in the moderators' channel: each queued item (Discord or Reddit) is posted once with Approve /
Reject buttons. The buttons carry the review id in their custom_id (a DynamicItem registered at start-up), so they
work on messages posted before a restart.

Every message posted here is recorded with the posts it quotes (store.remember_bot_message), so forgetting an
author or editing a post can find it. Posts that join a pending item (same thread, within the merge window) and
edits of its posts refresh the item's message, at most once per REFRESH_SECONDS. A flood (posts past the
moderators' limits) becomes ONE line per author and channel per hour, edited as the count grows."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_bot import report, tell
from bot.text.clean import quote
from bot.text.limits import clip

from .common import NONE, bot_of, channel_by_id, is_moderator, mod_channel
from .render import decided_embed, fit_embed, review_embed
from .replies import deliver_reply

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Decision, Post, ReviewItem

log = logging.getLogger(__name__)
CURSOR = "discord:reviews_announced"  # checkpoint: the highest review id already posted to a moderator channel
CLOSE_WAIT_SECONDS = 10.0
REFRESH_SECONDS = 2.0  # a review message is edited at most this often while posts join its item
FLOOD_SECONDS = 3.0  # a flood line is posted (or updated) this long after the first dropped post
FLOOD_WINDOW = 3600.0  # one flood line per author and channel per hour
REMOVED = "(removed at the author's request)"
LISTED = 5  # merged posts quoted in a review message; the rest are counted


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cp:review:(?P<action>approve|reject):(?P<id>[0-9]+)"
):
    def __init__(self, action: str, review_id: int) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=action.capitalize(), style=style, custom_id=f"cp:review:{action}:{review_id}"
        )
        super().__init__(button)
        self.action, self.review_id = action, review_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ReviewButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await decide(interaction, self.action, self.review_id)
        except Exception as exc:  # the error boundary of this button: log, one sentence to the moderator
            await report(interaction, exc, f"review {self.action} #{self.review_id}")


def review_view(review_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("approve", review_id))
    view.add_item(ReviewButton("reject", review_id))
    return view


async def decide(interaction: discord.Interaction[Any], action: str, review_id: int) -> None:
    bot = bot_of(interaction)
    if not await is_moderator(interaction):
        return await tell(interaction, "Only moderators can approve or reject queued replies.")
    who, pipeline = interaction.user, bot.resources.pipeline
    await interaction.response.defer()  # posting the reply may take a moment
    if action == "reject":
        done = await pipeline.reject(review_id, str(who.id))
        outcome = f"Rejected by {who.display_name}." if done else "Already decided by another moderator."
    else:
        decision = await pipeline.approve(review_id, str(who.id))
        if decision is not None and decision.action == "ignore":
            # the post was edited and no longer frames (or could not be judged): nothing is posted
            outcome = (
                f"Approved by {who.display_name}, but nothing was posted: the post was edited and no longer frames "
                "the topic."
                if decision.reason == "no longer frames"
                else f"Approved by {who.display_name}, but nothing was posted: the post could not be judged again."
            )
            return await _close(interaction, outcome, review_id)
        outcome = await _post_approved(bot, decision, who.display_name)
        if decision is not None and await pipeline.approval_failed(decision):
            # nothing went out: the item is pending again and keeps its buttons
            return await tell(interaction, f"{outcome} It is back in the queue; approve it again to retry.")
    await _close(interaction, outcome, review_id)


async def _post_approved(bot: CounterpointBot, decision: Decision | None, who: str) -> str:
    if decision is None:
        return "Already decided, or the post is gone."
    if decision.post.platform == "discord":
        sent = await deliver_reply(bot, decision)
        return f"Approved by {who}: reply posted." if sent else f"Approved by {who}, but Discord refused the reply."
    if bot.reddit is None:
        await bot.resources.pipeline.failed(decision)
        return f"Approved by {who}, but Reddit is not configured on this bot: nothing was posted."
    try:
        # the door records Pipeline.sent / failed itself; an uncertain send keeps the claim (never posted twice)
        await bot.reddit.reply(decision)
    except Exception as exc:  # the Reddit adapter's own errors; str() is one sentence for the moderator
        log.warning("Reddit reply to %s failed: %s", decision.post.post_id, exc)
        return f"Approved by {who}, but the Reddit reply did not go out: {str(exc)[:300]}"
    return f"Approved by {who}: reply posted on Reddit."


async def _close(interaction: discord.Interaction[Any], outcome: str, review_id: int) -> None:
    """The review message loses its buttons and says what happened; its content is rendered again from the store,
    so it shows the post as it is now (edited text, removed posts gone)."""
    message = interaction.message
    embed = message.embeds[0] if message is not None and message.embeds else discord.Embed()
    item = await bot_of(interaction).resources.store.get_review(review_id)
    if item is not None:
        embed = await item_embed(bot_of(interaction), item)
    try:
        await interaction.edit_original_response(embed=decided_embed(embed, outcome), view=None)
    except discord.HTTPException as exc:
        log.warning("could not update the review message: %s", exc)
    await tell(interaction, outcome)


async def item_embed(bot: CounterpointBot, item: ReviewItem) -> discord.Embed:
    """A review item as it is now: its post and counterpoint, and the posts of the thread that joined it."""
    embed = review_embed(item)
    merged = await bot.resources.store.review_posts(item.id)
    if merged:
        lines = [f"• {quote(p.author_name or 'someone')}: “{clip(quote(p.text), 120)}”" for p in merged[:LISTED]]
        if len(merged) > LISTED:
            lines.append(f"… and {len(merged) - LISTED} more")
        embed.add_field(name=f"Also in this thread ({len(merged)} more posts)", value="\n".join(lines), inline=False)
    return fit_embed(embed)


def _quoted(item: ReviewItem, merged: list[Post]) -> list[tuple[str, str]]:
    return [(item.platform, item.post_id), *((p.platform, p.post_id) for p in merged)]


@dataclass
class Flood:
    guild_id: str
    channel_id: str
    author: str
    first_post: tuple[str, str]
    started: float
    count: int = 0
    message: discord.Message | None = None
    scheduled: bool = False


@dataclass
class Announcer:
    """Posts new pending reviews to the right moderator channel, each once (a checkpoint survives restarts);
    refreshes the messages of items that changed; reports floods in one line each."""

    bot: CounterpointBot
    refresh_seconds: float = REFRESH_SECONDS
    flood_seconds: float = FLOOD_SECONDS
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _dirty: set[int] = field(default_factory=set)
    _refresher: asyncio.Task[None] | None = None
    _floods: dict[tuple[str, str, str], Flood] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def announce_pending(self) -> int:
        store, posted = self.bot.resources.store, 0
        async with self._lock:
            cursor = int(await store.get_checkpoint(CURSOR) or 0)
            for item in await store.pending_reviews(limit=200):
                if item.id <= cursor:
                    continue
                posted += await self._post(item)
                cursor = item.id
                await store.set_checkpoint(CURSOR, str(cursor))
        return posted

    async def _post(self, item: ReviewItem) -> int:
        channel = await mod_channel(self.bot, item.guild_id)
        if channel is None:
            log.info("review #%s stays in the queue: no moderator channel for it", item.id)
            return 0
        store = self.bot.resources.store
        merged = await store.review_posts(item.id)
        embed = await item_embed(self.bot, item)
        try:
            sent = await channel.send(embed=embed, view=review_view(item.id), allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning("could not post review #%s: %s", item.id, exc)
            return 0
        await store.remember_bot_message(
            "discord",
            str(sent.id),
            str(sent.channel.id),
            _quoted(item, merged),
            kind="review",
            review_id=item.id,
        )
        return 1

    # --- refreshing posted items --------------------------------------------------------------------------------
    def touch(self, review_id: int) -> None:
        """The item changed (a post joined it, or one of its posts was edited): refresh its message soon."""
        self._dirty.add(review_id)
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_later(), name="review-refresh")

    async def _refresh_later(self) -> None:
        await asyncio.sleep(self.refresh_seconds)
        while self._dirty:
            review_id = self._dirty.pop()
            try:
                await self.refresh(review_id)
            except Exception:  # one message failing to refresh must not stop the others
                log.exception("refreshing review #%s failed", review_id)

    async def refresh(self, review_id: int) -> int:
        """Edit the posted messages of a review item to show it as it is now; returns messages edited."""
        store = self.bot.resources.store
        messages = await store.bot_messages_of_review(review_id)
        item = await store.get_review(review_id)
        if not messages or item is None:
            return 0
        merged = await store.review_posts(review_id)
        embed = await item_embed(self.bot, item)
        pending = item.status == "pending"
        edited = 0
        for ref in messages:
            channel = await channel_by_id(self.bot, str(ref["channel_id"]))
            if channel is None or not hasattr(channel, "get_partial_message"):
                continue
            try:
                msg = channel.get_partial_message(int(ref["message_id"]))
                if pending:
                    await msg.edit(embed=embed, view=review_view(review_id), allowed_mentions=NONE)
                else:
                    await msg.edit(embed=embed)
            except discord.HTTPException as exc:
                log.warning("could not refresh review #%s: %s", review_id, exc)
                continue
            edited += 1
            await store.remember_bot_message(
                "discord", str(ref["message_id"]), str(ref["channel_id"]), _quoted(item, merged), kind="review",
                review_id=review_id,
            )  # fmt: skip
        return edited

    # --- floods ---------------------------------------------------------------------------------------------------
    def flooded(self, post: Post) -> None:
        """A framing post was not queued (the moderators' limits): count it into its flood's one line."""
        key = (post.guild_id, post.author_id, post.channel_id)
        now = time.monotonic()
        flood = self._floods.get(key)
        if flood is None or now - flood.started > FLOOD_WINDOW:
            flood = self._floods[key] = Flood(
                post.guild_id, post.channel_id, post.author_name or "someone", (post.platform, post.post_id), now
            )
        flood.count += 1
        if not flood.scheduled:
            flood.scheduled = True
            task = asyncio.create_task(self._report_flood(flood), name="flood-line")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _report_flood(self, flood: Flood) -> None:
        await asyncio.sleep(self.flood_seconds)
        flood.scheduled = False
        text = (
            f"{flood.count} more framing posts from {quote(flood.author)} in <#{flood.channel_id}> were not queued: "
            "flood limit."
        )
        try:
            if flood.message is not None:
                await flood.message.edit(content=text, allowed_mentions=NONE)
                return
            channel = await mod_channel(self.bot, flood.guild_id)
            if channel is None:
                log.warning("%s (no moderator channel)", text)
                return
            flood.message = await channel.send(text, allowed_mentions=NONE)
            await self.bot.resources.store.remember_bot_message(
                "discord", str(flood.message.id), str(flood.message.channel.id), [flood.first_post], kind="flood"
            )
        except discord.HTTPException as exc:
            log.warning("could not tell the moderators about a flood: %s", exc)

    async def aclose(self) -> None:
        # an item being posted right now finishes first, so its checkpoint is written before the store closes
        # (else a restart posts it a second time); bounded, so a hung send never holds up shutting down
        with suppress(TimeoutError):
            await asyncio.wait_for(self._lock.acquire(), CLOSE_WAIT_SECONDS)
            self._lock.release()
        for task in [*self._tasks, *([self._refresher] if self._refresher else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._refresher] if self._refresher else []), return_exceptions=True)


async def neutralize(bot: CounterpointBot, messages: list[dict[str, Any]]) -> int:
    """The bot's own messages that quoted removed words: a still-pending review item whose other posts remain is
    shown again without them; every other message becomes REMOVED, with no embed and no buttons. Returns the
    messages rewritten; what they quoted is forgotten either way."""
    store, rewritten = bot.resources.store, []
    announcer = getattr(bot.get_cog("Moderation"), "announcer", None)
    for ref in messages:
        review_id = int(ref.get("review_id") or 0)
        item = await store.get_review(review_id) if review_id else None
        if item is not None and item.status == "pending" and announcer is not None:
            await announcer.refresh(review_id)  # shown again without the removed posts; still quotes the others
            continue
        channel = await channel_by_id(bot, str(ref["channel_id"]))
        if channel is None or not hasattr(channel, "get_partial_message"):
            continue
        try:
            await channel.get_partial_message(int(ref["message_id"])).edit(
                content=REMOVED, embeds=[], view=None, allowed_mentions=NONE
            )
        except discord.HTTPException as exc:
            log.warning("could not rewrite message %s: %s", ref["message_id"], exc)
            continue
        rewritten.append(str(ref["message_id"]))
    await store.forget_bot_messages("discord", rewritten)
    return len(rewritten)
