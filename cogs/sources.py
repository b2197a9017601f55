"""/sources add|remove|list|show: the server's own citation sources, next to the shipped library.

Moderators only (Manage Server or the moderator role, checked in code by `interaction_check`). A source added here
is checked by the library file's own model (https only), stored for this server, and used at once: the composer
reloads its libraries after every change. The shipped library (sources.toml) is read-only from Discord."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.counterpoint.library_file import parse_moderator_source
from bot.errors import ConfigError, InputError

from .common import MOD_PERMS, NONE, ModeratorCog

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot
    from bot.models import Source

log = logging.getLogger(__name__)
FACT_SEPARATOR = "|"
MAX_FACTS = 5
LIST_LIMIT = 1900


def _split(text: str, sep: str) -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


class Sources(ModeratorCog):
    sources = app_commands.Group(
        name="sources", description="The sources the bot may cite in this server",
        guild_only=True, default_permissions=MOD_PERMS,
    )  # fmt: skip

    @sources.command(name="add")
    @app_commands.describe(
        id="A short unique name: letters, digits, '.', '_' or '-' (e.g. eu-ai-office-2026)",
        url="The link, exactly as published (https only)",
        title="The source's own title",
        publisher="Who published it",
        date="As the source shows it: YYYY-MM-DD, a year, or n.d.",
        themes="Theme keys, comma-separated (see /sources list)",
        facts=f"What the bot may say, in your words, figures exactly as the source gives them; separate facts with "
        f"'{FACT_SEPARATOR}'",
        lang="The language the source and its facts are written in (default en)",
    )
    async def add(  # noqa: PLR0917 (slash command options are parameters)
        self,
        interaction: discord.Interaction[Any],
        id: str,
        url: str,
        title: str,
        publisher: str,
        date: str,
        themes: str,
        facts: str,
        lang: str = "en",
    ) -> None:
        """Add a source the bot may cite in this server, used from the next reply on."""
        guild = str(interaction.guild_id or "")
        values = {
            "id": id, "url": url, "title": title, "publisher": publisher, "date": date,
            "themes": _split(themes, ","), "facts": _split(facts, FACT_SEPARATOR)[:MAX_FACTS], "lang": lang.strip(),
        }  # fmt: skip
        composer = self.bot.resources.composer
        try:
            source = parse_moderator_source(values, added_by=str(interaction.user.id))
            source = _in_guild(source, guild)
            composer.base_library.validate_source(source)
        except ConfigError as exc:
            raise InputError(str(exc)) from None
        store = self.bot.resources.store
        existing = {s.id: s for s in await store.list_sources()}
        other = existing.get(source.id)
        if other is not None and other.guild_id != guild:
            raise InputError(f"The id {source.id} is already used by another server's source; choose another id.")
        await store.add_source(source)
        await composer.refresh_library()
        log.info("source %s added in server %s by %s", source.id, guild, interaction.user.id)
        verb = "Replaced" if other is not None else "Added"
        await self._say(
            interaction,
            f"{verb} `{source.id}`: {source.cite_title} <{source.url}> on {', '.join(source.themes)}, "
            f"{len(source.facts)} fact(s). Replies in this server may cite it from now on.",
        )

    @sources.command(name="remove")
    @app_commands.describe(id="The id of a source added in this server")
    async def remove(self, interaction: discord.Interaction[Any], id: str) -> None:
        """Remove a source added in this server (the shipped library cannot be changed from Discord)."""
        guild = str(interaction.guild_id or "")
        store = self.bot.resources.store
        mine = {s.id for s in await store.list_sources() if s.guild_id == guild}
        if id not in mine:
            if id in self.bot.resources.composer.base_library:
                raise InputError(f"`{id}` is in the shipped library, which is read-only from Discord (sources.toml).")
            raise InputError(f"No source `{id}` was added in this server; /sources list shows them.")
        await store.remove_source(id)
        await self.bot.resources.composer.refresh_library()
        await self._say(interaction, f"Removed `{id}`; replies no longer cite it.")

    @sources.command(name="list")
    async def list_sources(self, interaction: discord.Interaction[Any]) -> None:
        """The themes, and the sources added in this server."""
        guild = str(interaction.guild_id or "")
        library = self.bot.resources.composer.library_for(guild)
        shipped = self.bot.resources.composer.base_library
        added = [s for s in library.sources if s.added_by]
        lines = [f"**Library**: {len(shipped)} shipped sources (read-only), {len(added)} added here."]
        lines.append("__Themes__: " + ", ".join(f"`{k}`" for k, t in library.themes.items() if t.evidence))
        if added:
            lines.append("__Added in this server__:")
            lines += [f"• `{s.id}` {s.cite_title} ({', '.join(s.themes)}), by <@{s.added_by}>" for s in added]
        await self._say(interaction, _clip("\n".join(lines)))

    @sources.command(name="show")
    @app_commands.describe(id="The id of any source the bot may cite here")
    async def show(self, interaction: discord.Interaction[Any], id: str) -> None:
        """One source in full: title, publisher, date, link, themes and the facts the bot may state."""
        library = self.bot.resources.composer.library_for(str(interaction.guild_id or ""))
        source = library.get(id)
        if source is None:
            raise InputError(f"No source `{id}` here; /sources list shows the themes and the added sources.")
        origin = f"added by <@{source.added_by}>" if source.added_by else "shipped library (read-only)"
        lines = [
            f"**{source.cite_title}**",
            f"`{source.id}` · {source.date} · {source.lang} · {origin}",
            f"<{source.url}>",
            f"Themes: {', '.join(source.themes)}",
            *(f"• {fact}" for fact in source.facts),
        ]
        await self._say(interaction, _clip("\n".join(lines)))

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NONE)


def _in_guild(source: Source, guild_id: str) -> Source:
    return replace(source, guild_id=guild_id)


def _clip(text: str) -> str:
    return text if len(text) <= LIST_LIMIT else text[: LIST_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"


async def setup(bot: CounterpointBot) -> None:
    await bot.add_cog(Sources(bot))
