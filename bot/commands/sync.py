"""`counterpoint sync`: register the Discord slash commands now. `run` syncs them by itself only when the command
tree changed since the last sync (Discord's guidance), so this is for when the commands look wrong in Discord."""

from __future__ import annotations

import argparse
import sys

from bot.app import build_resources
from bot.discord_bot import CounterpointBot, discord_failure, quiet_voice_warnings
from bot.errors import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from bot.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_discord or settings.discord_token is None:
        print("counterpoint sync: set DISCORD_TOKEN (the bot's token) to register its slash commands.", file=sys.stderr)
        return EXIT_USAGE
    quiet_voice_warnings()
    async with build_resources(settings) as resources:
        bot = CounterpointBot(resources)
        bot.force_sync = True
        try:
            async with bot:
                await bot.login(settings.discord_token.get_secret_value())  # runs setup_hook, which syncs
        except Exception as exc:
            known = discord_failure(exc)
            if known is None:
                raise
            print(f"counterpoint sync: {known}", file=sys.stderr)
            return known.exit_code
        if not bot.synced:  # the reason is in the log line above
            print("counterpoint sync: Discord did not accept the commands; see the warning above.", file=sys.stderr)
            return EXIT_UNAVAILABLE
    where = f"to guild {settings.discord.dev_guild}" if settings.discord.dev_guild else "globally (may take an hour)"
    print(f"Slash commands registered {where}.")
    return EXIT_OK
