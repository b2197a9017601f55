"""What every cog shares: Message -> Post, who counts as a moderator, where moderators read, the error-reporting
base view. No SQL and no HTTP of its own: the store and discord.py do the work."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands

from bot.discord_bot import NotModerator, report
from bot.models import Post
from bot.summary.exports import is_reply_reference, render_mentions, speech_kind, with_forward

if TYPE_CHECKING:
    from bot.discord_bot import CounterpointBot

log = logging.getLogger(__name__)
NONE = discord.AllowedMentions.none()


def bot_of(interaction: discord.Interaction[Any]) -> CounterpointBot:
    return cast("CounterpointBot", interaction.client)


def speech_text(message: discord.Message) -> str | None:
    """What a message says, by the one rule the exports use too (bot.summary.exports.speech_kind): None for system
    messages (joins, boosts, pins, calls, renames, thread-created notices ...); a thread starter (type 21) gives the
    text of the message it references; mentions show display names; forwarded text is quoted."""
    kind = speech_kind(message.type)
    if kind == "system":
        return None
    source: Any = message
    if kind == "starter":
        resolved = message.reference.resolved if message.reference is not None else None
        if not isinstance(resolved, discord.Message):
            return ""
        source = resolved
    forwarded = [_rendered(s) for s in getattr(message, "message_snapshots", None) or []]
    return with_forward(_rendered(source), forwarded)


def _rendered(message: Any) -> str:
    users = {str(u.id): u.display_name for u in getattr(message, "mentions", None) or []}
    channels = {
        str(c.id): str(getattr(c, "name", "") or "channel") for c in getattr(message, "channel_mentions", None) or []
    }
    return render_mentions(str(message.content or ""), users, channels)


def reply_parent(message: discord.Message) -> str | None:
    """The message this one answers: a reply's reference, never a forward's, a crosspost's or a pin's."""
    ref = message.reference
    if ref is None or ref.message_id is None or speech_kind(message.type) != "speech":
        return None
    data = {"type": ref.type.value, "message_id": ref.message_id, "channel_id": ref.channel_id}
    reply = is_reply_reference(data, flags=message.flags.value, channel_id=str(message.channel.id))
    return str(ref.message_id) if reply else None


def message_to_post(message: discord.Message, channel: Any = None) -> Post | None:
    """thread_id is the thread (or the channel when there is none); channel_id is always the parent channel.
    `channel`: the message's channel when discord.py only had a partial one for it. None when the message is not
    speech (speech_text) or has no text; a thread starter is credited to the author of the message it stands for."""
    text = speech_text(message)
    if not text or not text.strip():
        return None
    channel = channel or message.channel
    parent = channel.parent_id if isinstance(channel, discord.Thread) else None
    resolved = message.reference.resolved if message.reference is not None else None
    author = (
        resolved.author
        if speech_kind(message.type) == "starter" and isinstance(resolved, discord.Message)
        else message.author
    )
    return Post(
        platform="discord",
        post_id=str(message.id),
        thread_id=str(channel.id),
        author_id=str(author.id),
        author_name=author.display_name,
        text=text,
        created_at=message.created_at,
        channel_id=str(parent or channel.id),
        guild_id=str(message.guild.id) if message.guild else "",
        parent_id=reply_parent(message),
        author_is_bot=author.bot,
        url=message.jump_url,
    )


async def guild_config(bot: CounterpointBot, guild_id: str) -> dict[str, str]:
    return await bot.resources.store.get_channel_config(guild_id, "") if guild_id else {}


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server (as Discord resolved it for this channel) or the moderator role (id or name), checked here in
    code: default_permissions only hides commands, and server admins can change that."""
    user = interaction.user
    if interaction.guild is None or not isinstance(user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    bot = bot_of(interaction)
    role = (await guild_config(bot, str(interaction.guild.id))).get("mod_role") or bot.settings.discord.mod_role
    return bool(role) and any(str(r.id) == role or r.name == role for r in user.roles)


async def channel_by_id(bot: CounterpointBot, channel_id: str) -> discord.abc.Messageable | None:
    if not channel_id.isdigit():
        return None
    channel: Any = bot.get_channel(int(channel_id))
    if channel is None:
        try:
            channel = await bot.fetch_channel(int(channel_id))
        except discord.HTTPException as exc:
            log.warning("channel %s is not reachable: %s", channel_id, exc)
            return None
    return channel if isinstance(channel, discord.abc.Messageable) else None


async def mod_channel(bot: CounterpointBot, guild_id: str) -> discord.abc.Messageable | None:
    """The guild's moderator channel (/settings, else discord.mod_channel). A channel of another server is never
    used for a guild's items: posts must not leak across servers. guild_id "" (Reddit items): the global one."""
    configured = (await guild_config(bot, guild_id)).get("mod_channel") or bot.settings.discord.mod_channel
    channel = await channel_by_id(bot, configured)
    if channel is None:
        return None
    owner = getattr(getattr(channel, "guild", None), "id", None)
    if guild_id and str(owner) != guild_id:
        log.warning("moderator channel %s is not in server %s; not using it", configured, guild_id)
        return None
    return channel


async def reddit_home(bot: CounterpointBot, guild_id: str) -> bool:
    """Reddit items belong to the server that holds discord.mod_channel."""
    channel = await channel_by_id(bot, bot.settings.discord.mod_channel)
    return str(getattr(getattr(channel, "guild", None), "id", "")) == guild_id


MOD_PERMS = discord.Permissions(manage_guild=True)  # Discord's default for moderator commands; checked in code too


class ModeratorCog(commands.Cog):
    """A cog whose every command is for moderators: checked in code on each interaction (is_moderator: Manage
    Server or the configured mod role), not only by Discord's default permissions, which a server can change."""

    def __init__(self, bot: CounterpointBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if await is_moderator(interaction):
            return True
        raise NotModerator()


class BaseView(discord.ui.View):
    """A view whose failures go through the bot's error boundary (one honest sentence, details in the log)."""

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, item: Any) -> None:
        await report(interaction, error, f"button {getattr(item, 'custom_id', '?')}")
