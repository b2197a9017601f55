"""The public counterpoint reply: sending it exactly once, and its buttons (Helpful, Not helpful, Dismiss).

The buttons have fixed custom_ids and the view is registered at start-up with `bot.add_view`, so buttons on
replies sent before a restart keep working; the reply is identified by the message the button sits on.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_bot import report, tell

from .common import NONE, BaseView, bot_of, channel_by_id, is_moderator
from .render import counterpoint_embed

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Decision

log = logging.getLogger(__name__)


async def deliver_reply(
    bot: CounterpointBot, decision: Decision, channel: discord.abc.Messageable | None = None
) -> str | None:
    """Post the counterpoint as a reply to the post; record it as sent, or release the claim when Discord refused.
    Returns the reply's message id."""
    post, pipeline = decision.post, bot.resources.pipeline
    channel = channel or await channel_by_id(bot, post.thread_id)
    if channel is None or decision.counterpoint is None:
        log.warning("cannot reply to %s: channel %s unreachable", post.post_id, post.thread_id)
        await pipeline.failed(decision)
        return None
    ref = discord.MessageReference(
        message_id=int(post.post_id), channel_id=int(post.thread_id), guild_id=int(post.guild_id or 0) or None
    )
    try:
        message = await channel.send(
            embed=counterpoint_embed(decision.counterpoint),
            view=CounterpointView(),
            reference=ref,
            mention_author=False,
            allowed_mentions=NONE,
        )
    except discord.HTTPException as exc:
        log.warning("Discord refused the reply to %s (%s); the claim is released", post.post_id, exc)
        await pipeline.failed(decision)
        return None
    await pipeline.sent(decision, str(message.id))
    log.info("replied to %s in %s with %s (%s)", post.post_id, post.thread_id, message.id, decision.reason)
    return str(message.id)


class CounterpointView(BaseView):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Helpful", style=discord.ButtonStyle.success, custom_id="cp:vote:up")
    async def helpful(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._vote(interaction, +1)

    @discord.ui.button(label="Not helpful", style=discord.ButtonStyle.secondary, custom_id="cp:vote:down")
    async def not_helpful(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await self._vote(interaction, -1)

    @discord.ui.button(label="Dismiss", style=discord.ButtonStyle.danger, custom_id="cp:dismiss")
    async def dismiss(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        if interaction.message is None:
            return await tell(interaction, "That note is gone already.")
        if not await is_moderator(interaction):
            return await tell(interaction, "Only moderators can dismiss this note.")
        await interaction.response.send_modal(DismissModal(interaction.message))

    async def _vote(self, interaction: discord.Interaction[Any], value: int) -> None:
        if interaction.message is None:
            return await tell(interaction, "That note is gone already.")
        store = bot_of(interaction).resources.store
        # one vote per person and reply; pressing the other button changes it
        await store.vote("discord", str(interaction.message.id), str(interaction.user.id), value)
        word = "helpful" if value > 0 else "not helpful"
        await tell(interaction, f"Thanks, your vote is recorded: {word}. You can change it any time.")


class DismissModal(discord.ui.Modal, title="Dismiss this note"):
    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Why? (kept for the moderators' records)", required=False, max_length=300
    )

    def __init__(self, target: discord.Message) -> None:
        super().__init__()
        self.target = target

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        if not await is_moderator(interaction):
            return await tell(interaction, "Only moderators can dismiss this note.")
        reason = self.reason.value.strip() or "no reason given"
        ref = self.target.reference
        recorded = await bot_of(interaction).resources.store.dismiss_reply(
            "discord",
            str(ref.message_id) if ref and ref.message_id else "",
            reply_id=str(self.target.id),
            moderator=str(interaction.user.id),
            reason=reason,
        )
        with contextlib.suppress(discord.NotFound):  # someone deleted it meanwhile: the goal is reached
            await self.target.delete()
        log.info("reply %s dismissed by %s (recorded: %s): %s", self.target.id, interaction.user.id, recorded, reason)
        # not recorded: dismissed before (that record stands) or not in this bot's records
        note = "your reason is recorded" if recorded else "it was dismissed before or is not in my records"
        await tell(interaction, f"Dismissed: the note is deleted; {note}.")

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await report(interaction, error, "dismiss form")
