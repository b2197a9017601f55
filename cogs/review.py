"""The review queue in the moderators' channel: each queued item (Discord or Reddit) is posted once with Approve /
Reject buttons. The buttons carry the review id in their custom_id (a DynamicItem registered at start-up), so they
work on messages posted before a restart."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_bot import report, tell

from .common import NONE, bot_of, is_moderator, mod_channel
from .render import decided_embed, review_embed
from .replies import deliver_reply

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Decision

log = logging.getLogger(__name__)
CURSOR = "discord:reviews_announced"  # checkpoint: the highest review id already posted to a moderator channel


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
        outcome = await _post_approved(bot, decision, who.display_name)
        if decision is not None and await pipeline.approval_failed(decision):
            # nothing went out: the item is pending again and keeps its buttons
            return await tell(interaction, f"{outcome} It is back in the queue; approve it again to retry.")
    await _close(interaction, outcome)


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


async def _close(interaction: discord.Interaction[Any], outcome: str) -> None:
    """The review message keeps its content, loses its buttons and says what happened."""
    message = interaction.message
    embed = message.embeds[0] if message is not None and message.embeds else discord.Embed()
    try:
        await interaction.edit_original_response(embed=decided_embed(embed, outcome), view=None)
    except discord.HTTPException as exc:
        log.warning("could not update the review message: %s", exc)
    await tell(interaction, outcome)


class Announcer:
    """Posts new pending reviews to the right moderator channel, each once (a checkpoint survives restarts)."""

    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()

    async def announce_pending(self) -> int:
        store, posted = self.bot.resources.store, 0
        async with self._lock:
            cursor = int(await store.get_checkpoint(CURSOR) or 0)
            for item in await store.pending_reviews(limit=200):
                if int(item["id"]) <= cursor:
                    continue
                posted += await self._post(item)
                cursor = int(item["id"])
                await store.set_checkpoint(CURSOR, str(cursor))
        return posted

    async def _post(self, item: dict[str, Any]) -> int:
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        guild_id = str((payload or {}).get("guild_id") or "") if item.get("platform") == "discord" else ""
        channel = await mod_channel(self.bot, guild_id)
        if channel is None:
            log.info("review #%s stays in the queue: no moderator channel for it", item["id"])
            return 0
        try:
            await channel.send(embed=review_embed(item), view=review_view(int(item["id"])), allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning("could not post review #%s: %s", item["id"], exc)
            return 0
        return 1
