"""Moderator tools: /watch, /settings, /stats, /review, and posting the review queue (digests: cogs/digests.py).

Every command here needs Manage Server or the moderator role, checked in code by `interaction_check` (Discord's
default_permissions only hides the commands, and server admins can change it)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.counterpoint.feedback import WINDOW_DAYS
from bot.errors import InputError
from bot.models import utcnow

from .common import MOD_PERMS, NONE, ModeratorCog, guild_config, reddit_home
from .render import review_embed, stats_embed
from .review import CURSOR, Announcer, ReviewButton, review_view

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Post

log = logging.getLogger(__name__)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
REVIEW_POLL_SECONDS = 30.0  # Reddit items reach the queue from another loop: look for new ones this often


def _guild_id(interaction: discord.Interaction[Any]) -> str:
    return str(interaction.guild_id or "")


class Moderation(ModeratorCog):
    watch = app_commands.Group(
        name="watch", description="Channels where the bot looks for US-vs-China race framing",
        guild_only=True, default_permissions=MOD_PERMS,
    )  # fmt: skip

    def __init__(self, bot: CounterpointBot) -> None:
        super().__init__(bot)
        self.announcer = Announcer(bot)

    async def cog_load(self) -> None:
        self.review_tick.start()

    async def cog_unload(self) -> None:
        self.review_tick.cancel()
        await self.announcer.aclose()

    # ---- /watch -----------------------------------------------------------------------------------------------

    @watch.command(name="add")
    @app_commands.describe(channel="The channel to watch (default: this one); its threads are watched too")
    async def watch_add(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel | None = None
    ) -> None:
        """Start watching a channel and its threads."""
        target = channel or interaction.channel
        await self.bot.resources.store.watch_add(_guild_id(interaction), str(getattr(target, "id", "")))
        self.bot.dispatch("counterpoint_watch_changed", _guild_id(interaction))  # the watcher's cache
        await self._say(interaction, f"Watching <#{getattr(target, 'id', '')}> and its threads.")

    @watch.command(name="remove")
    @app_commands.describe(channel="The channel to stop watching (default: this one)")
    async def watch_remove(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel | None = None
    ) -> None:
        """Stop watching a channel."""
        cid = str(getattr(channel or interaction.channel, "id", ""))
        removed = await self.bot.resources.store.watch_remove(_guild_id(interaction), cid)
        self.bot.dispatch("counterpoint_watch_changed", _guild_id(interaction))  # the watcher's cache
        note = "" if cid not in self.bot.settings.discord.watch_channels else " It is still watched by the config file."
        await self._say(
            interaction, (f"Stopped watching <#{cid}>." if removed else f"<#{cid}> was not watched.") + note
        )

    @watch.command(name="list")
    async def watch_list(self, interaction: discord.Interaction[Any]) -> None:
        """List the watched channels of this server."""
        stored = [c for _, c in await self.bot.resources.store.watched(_guild_id(interaction))]
        here = {str(c.id) for c in interaction.guild.channels} if interaction.guild else set()
        configured = [c for c in self.bot.settings.discord.watch_channels if c in here]
        lines = [f"• <#{c}>" for c in stored] + [f"• <#{c}> (config file)" for c in configured if c not in stored]
        await self._say(interaction, "Watched channels:\n" + "\n".join(lines) if lines else "No channel is watched.")

    # ---- /settings --------------------------------------------------------------------------------------------

    @app_commands.command(name="settings")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Apply mode, cooldown and cap to this channel only (default: the whole server)",
        mode="off: only read; shadow: counterpoints go to moderators; reply: answer in the thread",
        cooldown="Seconds between two unsolicited replies in one thread",
        hourly_cap="Unsolicited replies per hour in this server at most",
        mod_channel="Where shadow notes, review items and digests go",
        mod_role="A role that counts as moderator for this bot",
        digest_time="Time of the daily digest, HH:MM in UTC",
    )
    async def settings_(  # noqa: PLR0917 (slash command options are parameters)
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel | None = None,
        mode: Literal["off", "shadow", "reply"] | None = None,
        cooldown: app_commands.Range[int, 0, 86400] | None = None,
        hourly_cap: app_commands.Range[int, 0, 1000] | None = None,
        mod_channel: discord.TextChannel | None = None,
        mod_role: discord.Role | None = None,
        digest_time: str | None = None,
    ) -> None:
        """Show or change how the bot behaves in this server."""
        if digest_time is not None and not HHMM.match(digest_time):
            raise InputError("The digest time is HH:MM in UTC, for example 09:00.")
        gid, store = _guild_id(interaction), self.bot.resources.store
        scope = str(channel.id) if channel else ""
        changes = {
            (scope, "mode"): mode, (scope, "cooldown_seconds"): cooldown, (scope, "hourly_cap"): hourly_cap,
            ("", "mod_channel"): mod_channel.id if mod_channel else None,
            ("", "mod_role"): mod_role.id if mod_role else None, ("", "digest_time"): digest_time,
        }  # fmt: skip
        for (cid, key), value in changes.items():
            if value is not None:
                await store.set_channel_config(gid, cid, key, str(value))
        await self._say(interaction, await self._describe_settings(gid, scope))

    async def _describe_settings(self, gid: str, scope: str) -> str:
        policy = await self.bot.resources.pipeline.policy("discord", gid, scope)
        conf = await guild_config(self.bot, gid)
        d = self.bot.settings.discord
        where = f"<#{scope}>" if scope else "this server"
        mod = conf.get("mod_channel") or d.mod_channel
        role = conf.get("mod_role") or d.mod_role
        return "\n".join([
            f"Settings for {where}:",
            f"• mode: {policy.mode} · cooldown: {policy.cooldown_seconds} s · hourly cap: {policy.hourly_cap}",
            f"• moderator channel: {f'<#{mod}>' if mod else 'none (items stay in the review queue)'}",
            f"• moderator role: {f'<@&{role}>' if role and role.isdigit() else role or 'none (Manage Server only)'}",
            f"• daily digest: {conf.get('digest_time') or d.digest_time} UTC",
        ])  # fmt: skip

    # ---- digests, stats, review -------------------------------------------------------------------------------

    @app_commands.command(name="stats")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(days="Only the last N days (default: since the bot started keeping records)")
    async def stats(
        self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 1, 3650] | None = None
    ) -> None:
        """Detections, replies, votes, moderator decisions, precision, and helpfulness per theme in this server."""
        since = utcnow() - timedelta(days=days) if days else None
        store, guild = self.bot.resources.store, _guild_id(interaction)
        numbers = await store.stats(since=since, guild_id=guild)
        fallbacks = await store.fallback_counts(since=since, scope=f"discord:{guild}")
        themes = await self.bot.resources.composer.theme_feedback(guild)
        embed = stats_embed(
            numbers, period=f"last {days} days" if days else "all time", fallbacks=fallbacks,
            themes=list(themes.values()), window_days=WINDOW_DAYS, engine=self.bot.resources.detector.describe(),
        )  # fmt: skip
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="review")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def review(self, interaction: discord.Interaction[Any]) -> None:
        """Show replies waiting for a moderator's approval, with Approve / Reject buttons."""
        gid = _guild_id(interaction)
        # Reddit items belong to the server that holds discord.mod_channel; no server sees another's posts
        mine = (gid, "") if await reddit_home(self.bot, gid) else (gid,)
        pending = await self.bot.resources.store.pending_reviews(limit=200)
        items = [i for i in pending if i.guild_id in mine][:5]
        if not items:
            return await self._say(interaction, "Nothing is waiting for review.")
        await interaction.response.send_message(f"{len(items)} waiting (oldest first):", ephemeral=True)
        for item in items:
            view = review_view(item.id)
            await interaction.followup.send(embed=review_embed(item), view=view, ephemeral=True, allowed_mentions=NONE)

    @commands.Cog.listener()
    async def on_counterpoint_review(self, review_id: int) -> None:
        """An item was queued, or a post joined an item already posted (then its message is refreshed)."""
        announced = int(await self.bot.resources.store.get_checkpoint(CURSOR) or 0)
        if 0 < review_id <= announced:
            self.announcer.touch(review_id)
        await self.announcer.announce_pending()

    @commands.Cog.listener()
    async def on_counterpoint_review_changed(self, review_id: int) -> None:
        """A post of a pending item was edited: its message shows the new text."""
        self.announcer.touch(review_id)

    @commands.Cog.listener()
    async def on_counterpoint_flood(self, post: Post) -> None:
        self.announcer.flooded(post)

    @tasks.loop(seconds=REVIEW_POLL_SECONDS)
    async def review_tick(self) -> None:
        try:
            await self.announcer.announce_pending()
        except Exception:  # the loop must survive a bad minute (database busy, Discord down)
            log.exception("posting pending reviews failed; trying again later")

    @review_tick.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NONE)


async def setup(bot: CounterpointBot) -> None:
    bot.add_dynamic_items(ReviewButton)  # Approve / Reject keep working after a restart
    await bot.add_cog(Moderation(bot))
