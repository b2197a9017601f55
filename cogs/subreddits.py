"""/reddit status|enable|disable: the watched subreddits, switched by moderators from Discord.

Moderators only (Manage Server or the moderator role, checked in code by `interaction_check`). The switches are
the Reddit door's (bot/reddit/door.py) and live in the store, so they hold across restarts; a subreddit turned
off after a 403 keeps the reason and time of that refusal, and `enable` makes the next pass poll it again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.errors import InputError

from .common import MOD_PERMS, NONE, ModeratorCog

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot, RedditHook


class Subreddits(ModeratorCog):
    reddit = app_commands.Group(
        name="reddit", description="The subreddits the bot watches",
        guild_only=True, default_permissions=MOD_PERMS,
    )  # fmt: skip

    def _door(self) -> RedditHook:
        if self.bot.reddit is None:
            raise InputError("Reddit is not connected in this bot (no Reddit credentials or reddit.mode is off).")
        return self.bot.reddit

    def _named(self, door: RedditHook, subreddit: str) -> str:
        name = door.configured(subreddit)
        if name is None:
            raise InputError(
                f"r/{subreddit.removeprefix('r/')} is not one of the watched subreddits (reddit.subreddits)."
            )
        return name

    @reddit.command(name="status")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        """Each watched subreddit: on or off, why, and when Reddit last refused it."""
        rows = await self._door().status()
        if not rows:
            await self._say(interaction, "No subreddits are configured (reddit.subreddits).")
            return
        lines = []
        for row in rows:
            state = "on" if row.enabled else f"**off**: {row.reason}"
            line = f"• r/{row.name}: {state}"
            if row.refused_at is not None:
                line += f" (last refused <t:{int(row.refused_at.timestamp())}:R>: {row.refused_reason})"
            lines.append(line)
        await self._say(interaction, "\n".join(lines))

    @reddit.command(name="enable")
    @app_commands.describe(subreddit="A watched subreddit, e.g. LocalLLaMA or r/LocalLLaMA")
    async def enable(self, interaction: discord.Interaction[Any], subreddit: str) -> None:
        """Watch and reply in a subreddit again (for example after a ban was lifted)."""
        door = self._door()
        name = self._named(door, subreddit)
        await door.enable(name, by=str(interaction.user.id))
        await self._say(interaction, f"r/{name} is on again; the next pass polls it.")

    @reddit.command(name="disable")
    @app_commands.describe(subreddit="A watched subreddit", reason="Why, for the other moderators")
    async def disable(self, interaction: discord.Interaction[Any], subreddit: str, reason: str = "") -> None:
        """Stop watching and replying in a subreddit until a moderator enables it."""
        door = self._door()
        name = self._named(door, subreddit)
        why = f"turned off by a moderator{': ' + reason.strip() if reason.strip() else ''}"
        await door.disable(name, why, by=str(interaction.user.id))
        await self._say(interaction, f"r/{name} is off: nothing is read or sent there until /reddit enable.")

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NONE)


async def setup(bot: CounterpointBot) -> None:
    await bot.add_cog(Subreddits(bot))
