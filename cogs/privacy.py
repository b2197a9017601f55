"""Privacy: /optout, /optin, /mydata show|forget, and message edits and deletions reaching the store at once.

Opt-outs and /mydata cover everything the bot stores under your Discord account, in every server it is in."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from .common import NONE
from .render import mydata_pieces
from .review import neutralize

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot

log = logging.getLogger(__name__)


class Privacy(commands.Cog):
    mydata = app_commands.Group(name="mydata", description="What the bot stores about you, and erasing it")

    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot

    @app_commands.command(name="optout")
    async def optout(self, interaction: discord.Interaction[Any]) -> None:
        """Stop the bot from storing, summarizing or answering your messages."""
        new = await self.bot.resources.store.opt_out("discord", str(interaction.user.id))
        first = "Done: from now on" if new else "You were already opted out:"
        await self._say(
            interaction,
            f"{first} the bot does not store, summarize or answer your messages. What it stored before stays "
            "until you run /mydata forget.",
        )

    @app_commands.command(name="optin")
    async def optin(self, interaction: discord.Interaction[Any]) -> None:
        """Let the bot read your messages again (undoes /optout)."""
        removed = await self.bot.resources.store.opt_in("discord", str(interaction.user.id))
        await self._say(interaction, "You are opted in again." if removed else "You were not opted out.")

    @mydata.command(name="show")
    async def mydata_show(self, interaction: discord.Interaction[Any]) -> None:
        """Show what the bot stores about you (only you see it)."""
        data = await self.bot.resources.store.author_data("discord", str(interaction.user.id))
        pieces = mydata_pieces(data)
        await interaction.response.send_message(pieces[0], ephemeral=True, allowed_mentions=NONE)
        for piece in pieces[1:5]:
            await interaction.followup.send(piece, ephemeral=True, allowed_mentions=NONE)

    @mydata.command(name="forget")
    async def mydata_forget(self, interaction: discord.Interaction[Any]) -> None:
        """Erase every message, name and vote the bot stored about you."""
        store, uid = self.bot.resources.store, str(interaction.user.id)
        quoting = await store.bot_messages_of_author("discord", uid)  # before forget_author unlinks their posts
        if quoting:
            await interaction.response.defer(ephemeral=True)  # rewriting the moderators' messages takes a moment
        erased = await store.forget_author("discord", uid)
        rewritten = await neutralize(self.bot, quoting) if quoting else 0
        log.info("forgot the stored data of a user on request (%d messages, %d bot messages)", erased, rewritten)
        note = f" {rewritten} of the bot's messages to moderators that quoted you were rewritten." if rewritten else ""
        text = (
            f"Erased the text of {erased} stored messages, your name and your votes.{note} Use /optout to stop new "
            "ones."
        )
        if quoting:
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
        else:
            await self._say(interaction, text)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        store, post_id = self.bot.resources.store, str(payload.message_id)
        if content is not None and await store.edit_post("discord", post_id, content):
            for review_id in await store.reviews_of_post("discord", post_id):
                self.bot.dispatch("counterpoint_review_changed", review_id)  # its message shows the new text

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        store, post_id = self.bot.resources.store, str(payload.message_id)
        quoting = await store.bot_messages_quoting("discord", [post_id])
        if await store.delete_post("discord", post_id):
            log.info("deleted message %s removed from the store", payload.message_id)
        if quoting:
            await neutralize(self.bot, quoting)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        store, ids = self.bot.resources.store, [str(i) for i in payload.message_ids]
        quoting = await store.bot_messages_quoting("discord", ids)
        removed = await store.delete_posts("discord", ids)
        log.info("bulk delete: %d stored messages removed", removed)
        if quoting:
            await neutralize(self.bot, quoting)

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)


async def setup(bot: CounterpointBot) -> None:
    await bot.add_cog(Privacy(bot))
