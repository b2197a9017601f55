"""Moderator digests: /modsummary now, and the daily one in each server's moderator channel.

The daily digest is a tasks.loop that wakes every minute and sends each server's digest once a day, at or after
its digest time (UTC; discord.digest_time or /settings). A checkpoint per server and day keeps it to one even across
restarts, and a bot that was down at that time sends it when it comes back the same day. Errors are logged and the
loop goes on."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord_bot import NotModerator
from bot.models import utcnow
from bot.summary.digest import DigestScope, build_digest, render_digest

from .common import NONE, guild_config, is_moderator, mod_channel

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.summary.digest import Digest

log = logging.getLogger(__name__)


class Digests(commands.Cog):
    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.digest_tick.start()

    async def cog_unload(self) -> None:
        self.digest_tick.cancel()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if await is_moderator(interaction):
            return True
        raise NotModerator()

    @app_commands.command(name="modsummary")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(hours="The period to cover, in hours (default: the digest period)")
    async def modsummary(
        self, interaction: discord.Interaction[Any], hours: app_commands.Range[int, 1, 720] | None = None
    ) -> None:
        """The moderator digest now: activity, summaries, framing detections, votes, review queue."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        since = utcnow() - timedelta(hours=hours) if hours else None
        for piece in await self.digest_pieces(str(interaction.guild_id or ""), since=since):
            await interaction.followup.send(piece, ephemeral=True, allowed_mentions=NONE, suppress_embeds=True)

    async def digest_pieces(self, guild_id: str, *, since: datetime | None = None) -> list[str]:
        r = self.bot.resources
        scope = DigestScope.from_settings(r.settings)
        digest = await build_digest(r.store, r.summarizer, since=since, guild_id=guild_id, scope=scope)
        links = await self._links(digest)
        return render_digest(digest, link=lambda i: f"[↗](<{links[i]}>)" if links.get(i) else i)

    async def _links(self, digest: Digest) -> dict[str, str]:
        """Post id -> its link, for every post the digest cites (stored posts keep their jump URL)."""
        ids = {d.post_id for d in digest.detections}
        for t in digest.threads:
            if t.summary is not None:
                ids |= {i for p in t.summary.points for i in p.source_ids}
        return await self.bot.resources.store.post_urls(ids)

    @tasks.loop(minutes=1)
    async def digest_tick(self) -> None:
        try:
            await self.send_due_digests(utcnow())
        except Exception:  # the loop must survive a bad minute (database busy, Discord down)
            log.exception("the scheduled digest failed; trying again next minute")

    @digest_tick.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def send_due_digests(self, now: datetime) -> int:
        sent = 0
        for guild in self.bot.guilds:
            if await self._due(str(guild.id), now):
                sent += await self._send(str(guild.id), now)
        return sent

    async def _due(self, gid: str, now: datetime) -> bool:
        hhmm = (await guild_config(self.bot, gid)).get("digest_time") or self.bot.settings.discord.digest_time
        hh, mm = (int(x) for x in hhmm.split(":"))
        if now < datetime.combine(now.date(), time(hh, mm), tzinfo=now.tzinfo):
            return False
        return await self.bot.resources.store.get_checkpoint(f"discord:digest:{gid}") != now.date().isoformat()

    async def _send(self, gid: str, now: datetime) -> int:
        channel = await mod_channel(self.bot, gid)
        if channel is None:
            return 0
        # marked before sending: at most one digest a day, even if sending fails halfway
        await self.bot.resources.store.set_checkpoint(f"discord:digest:{gid}", now.date().isoformat())
        for piece in await self.digest_pieces(gid):
            await channel.send(piece, allowed_mentions=NONE, suppress_embeds=True)
        log.info("sent the daily digest of server %s", gid)
        return 1


async def setup(bot: CounterpointBot) -> None:
    await bot.add_cog(Digests(bot))
