"""The Discord front door: a commands.AutoShardedBot that receives every core resource from the composition root.

Intents: `guilds` (channels and threads), `guild_messages` (create/edit/delete events in servers) and
`message_content`, which is PRIVILEGED: enable "Message Content Intent" on the Bot page of the Developer Portal, or
Discord closes the gateway with code 4014 (discord.PrivilegedIntentsRequired). No members or presences intent:
moderator checks read the permissions Discord sends with each interaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.errors import (
    ConfigError,
    CounterpointError,
    InputError,
    LLMError,
    NotAllowed,
    PlatformUnavailable,
    StoreError,
)

if TYPE_CHECKING:
    from bot.app import Resources
    from bot.models import Decision, Post, Thread
    from bot.reddit.door import SubredditStatus

log = logging.getLogger(__name__)

# loaded in this order by setup_hook; each module has `async def setup(bot)`
EXTENSIONS: tuple[str, ...] = (
    "bot.cogs.watch", "bot.cogs.summaries", "bot.cogs.moderation", "bot.cogs.digests", "bot.cogs.privacy",
    "bot.cogs.sources", "bot.cogs.subreddits",
)  # fmt: skip
FALLBACK = "Something went wrong on my side; it has been logged."


class RedditHook(Protocol):
    """What the Discord side needs from the Reddit adapter (bot.reddit.client.RedditFrontDoor): post an approved
    counterpoint and return the comment's id. It records Pipeline.sent / Pipeline.failed itself (an uncertain
    send keeps the claim), and raises an exception whose str() is one sentence for the moderator."""

    async def reply(self, decision: Decision) -> str: ...

    async def summarize_url(self, url: str) -> tuple[Thread, list[Post]]:
        """The thread behind a Reddit URL, oldest first; raises RedditError (one sentence) when Reddit says no."""
        ...

    def configured(self, sub: str) -> str | None:
        """The configured subreddit a moderator's text names, or None (/reddit enable|disable)."""
        ...

    async def status(self) -> list[SubredditStatus]:
        """Each configured subreddit: on or off, why, and the reason and time of Reddit's last refusal."""
        ...

    async def enable(self, sub: str, *, by: str = "") -> None: ...

    async def disable(self, sub: str, reason: str, *, by: str = "") -> None: ...


class NotModerator(app_commands.CheckFailure, NotAllowed):
    """discord.py's check failure, mapped into the core's tree (bot.errors.NotAllowed) at the adapter edge."""

    def __init__(self) -> None:
        super().__init__("This is for moderators: it needs Manage Server or the moderator role.")


def build_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True  # privileged, see the module docstring
    return intents


class Endpoints:
    """discord.py keeps the REST base and the gateway URL in class attributes: set them for a proxy (or a test's
    fake server) while this bot runs, and put the previous values back when it closes."""

    def __init__(self, api_base: str, gateway_url: str) -> None:
        self.api_base = api_base.rstrip("/")
        self.gateway_url = gateway_url
        self._saved: tuple[str, yarl.URL] | None = None

    def apply(self) -> None:
        if self._saved is not None or not (self.api_base or self.gateway_url):
            return
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        if self.api_base:
            discord.http.Route.BASE = self.api_base
        if self.gateway_url:
            # every shard connects to DEFAULT_GATEWAY (CounterpointBot.launch_shards makes sure of it), and falls
            # back to it whenever a session is invalidated
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        log.info("discord endpoints: api %s, gateway %s", self.api_base or "default", self.gateway_url or "default")

    def restore(self) -> None:
        if self._saved is None:
            return
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
        self._saved = None


def describe_error(error: BaseException) -> str:
    """One short, honest sentence for the user; details go to the log only."""
    cause = getattr(error, "original", None) or error
    if isinstance(cause, app_commands.CheckFailure) and str(cause):
        return str(cause)
    if isinstance(cause, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {cause.retry_after:.0f} seconds."
    if isinstance(cause, InputError):
        return str(cause)
    if isinstance(cause, StoreError):
        return "The bot's database is not available right now; try again in a minute."
    if isinstance(cause, LLMError):
        return "The model server is not available right now; try again later."
    if isinstance(cause, discord.Forbidden):
        return "I am missing a permission here (view channel, read history or send messages)."
    return FALLBACK


async def tell(interaction: discord.Interaction[Any], text: str) -> None:
    """An ephemeral sentence, as the response or as a follow-up when the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException as exc:
        log.warning("could not tell the user about an error: %s", exc)


async def report(interaction: discord.Interaction[Any], error: BaseException, where: str) -> None:
    """The error boundary for interactions (commands, buttons, modals)."""
    cause = getattr(error, "original", None) or error
    if isinstance(cause, app_commands.CheckFailure | app_commands.CommandOnCooldown | InputError):  # not a fault
        log.info("%s refused for user %s: %s", where, interaction.user.id if interaction.user else "?", error)
    else:
        log.error("%s failed", where, exc_info=error)
    await tell(interaction, describe_error(error))


class CounterpointTree(app_commands.CommandTree["CounterpointBot"]):
    async def on_error(
        self, interaction: discord.Interaction[CounterpointBot], error: app_commands.AppCommandError
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "a command"
        await report(interaction, error, f"/{name}")


def shard_options(shard_count: int, shard_ids: list[str]) -> dict[str, Any]:
    """discord.shard_count 0: Discord recommends the count and this process runs every shard; otherwise this
    process runs discord.shard_ids (all of them when empty) out of shard_count, in one connection each."""
    if not shard_count:
        if shard_ids:
            raise ConfigError("discord.shard_ids needs discord.shard_count (the total across all processes)")
        return {}
    try:
        ids = [int(i) for i in shard_ids] or list(range(shard_count))
    except ValueError:
        raise ConfigError(f"discord.shard_ids must be whole numbers, not {shard_ids}") from None
    if any(not 0 <= i < shard_count for i in ids):
        raise ConfigError(f"discord.shard_ids {ids} must lie between 0 and discord.shard_count - 1 ({shard_count - 1})")
    return {"shard_count": shard_count, "shard_ids": ids}


class CounterpointBot(commands.AutoShardedBot):
    """`CounterpointBot(resources, reddit=hook)`; `await bot.start(token)`; `await bot.close()`.

    Resources are owned by the caller (built with `async with build_resources(...)`); the bot never closes them.
    """

    def __init__(
        self,
        resources: Resources,
        *,
        reddit: RedditHook | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        **options: Any,
    ) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.reddit = reddit
        self.extension_names = extensions
        self.force_sync = False  # `counterpoint sync`: register the commands even when they look unchanged
        self.synced = False  # whether this start registered the commands with Discord
        d = self.settings.discord
        self.endpoints = Endpoints(d.api_base, d.gateway_url)
        options.update(shard_options(d.shard_count, d.shard_ids))
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(
            command_prefix=commands.when_mentioned,  # no text commands: slash commands only
            intents=build_intents(),
            help_command=None,
            chunk_guilds_at_startup=False,
            tree_cls=CounterpointTree,
            **options,
        )

    async def login(self, token: str) -> None:
        self.endpoints.apply()  # before the first request: Route objects read BASE when they are built
        await super().login(token)

    async def launch_shards(self) -> None:
        if self.shard_count is None and self.endpoints.gateway_url:
            # without a count discord.py connects to the URL /gateway/bot names, which would bypass the configured
            # gateway (a proxy, or a test's fake): ask only for the count, so every shard uses DEFAULT_GATEWAY
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        await super().launch_shards()

    async def setup_hook(self) -> None:
        for name in self.extension_names:
            await self.load_extension(name)
        await self.sync_commands()

    async def sync_commands(self) -> bool:
        """Register the slash commands with Discord, as its guidance says: only when the command tree differs from
        what was last synced (a hash kept in the store), or when forced (`counterpoint sync`). A dev_guild is synced
        at every start: guild commands appear at once, and developers change them often. True when synced."""
        dev = self.settings.discord.dev_guild
        guild = discord.Object(int(dev)) if dev else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)  # guild commands appear at once; global ones take up to an hour
        key = f"discord.commands_hash:{self.application_id or ''}:{dev or 'global'}"
        digest = self.commands_hash(guild)
        store = self.resources.store
        if guild is None and not self.force_sync and await store.get_checkpoint(key) == digest:
            log.info("slash commands unchanged since the last sync; not syncing (`counterpoint sync` forces it)")
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.warning("could not sync slash commands (%s); the old ones stay until the next start", exc)
            return False
        await store.set_checkpoint(key, digest)
        self.synced = True
        log.info("synced %d application commands %s", len(synced), f"to guild {dev}" if dev else "globally")
        return True

    def commands_hash(self, guild: discord.abc.Snowflake | None = None) -> str:
        """What tree.sync would send, hashed: names, options, permissions, localizations."""
        payload = [cmd.to_dict(self.tree) for cmd in self.tree.get_commands(guild=guild)]
        payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def notify_moderators(self, text: str) -> bool:
        """A plain note to discord.mod_channel (the Reddit door reports a disabled subreddit this way)."""
        cid = self.settings.discord.mod_channel
        channel: Any = self.get_channel(int(cid)) if cid.isdigit() else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("no moderator channel for a note: %s", text)
            return False
        try:
            await channel.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not post a note to the moderators: %s", exc)
            return False
        return True

    async def review_queued(self, decision: Decision) -> None:
        """Something (e.g. the Reddit door) queued a review: the moderation cog posts it with its buttons."""
        self.dispatch("counterpoint_review", decision.review_id or 0)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d servers", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        # the error boundary for listeners: one failing event never stops the others
        log.exception("error while handling the %s event", event_method)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.endpoints.restore()


def quiet_voice_warnings() -> None:
    """A text-only bot: no voice, so no PyNaCl or davey warning at start-up."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


def discord_failure(exc: BaseException) -> CounterpointError | None:
    """discord.py's and aiohttp's exceptions mapped into the core's tree with one sentence a user can act on;
    None for anything else (a bug: the caller logs it with its traceback)."""
    if isinstance(exc, discord.LoginFailure):
        return ConfigError("Discord refused DISCORD_TOKEN; copy a fresh token from the Developer Portal.")
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return ConfigError(
            "enable Message Content Intent (Developer Portal > your application > Bot > Privileged Gateway "
            "Intents) and start again."
        )
    if isinstance(exc, OSError | aiohttp.ClientError | TimeoutError | discord.GatewayNotFound | discord.HTTPException):
        return PlatformUnavailable(f"cannot reach Discord ({exc or type(exc).__name__}); check the network connection.")
    return None
