"""`counterpoint run`: start every front door that has credentials (Discord, Reddit) until SIGINT or SIGTERM.

Shutdown: stop taking events, let the handlers in flight finish (their store writes commit), close Discord's
connections, stop the Reddit loop, then build_resources closes the store and the model client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from bot.app import Resources, build_resources, retention_loop
from bot.discord_bot import CounterpointBot, discord_failure, quiet_voice_warnings
from bot.errors import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, CounterpointError
from bot.models import Decision
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.reddit.client import RedditFrontDoor
    from bot.reddit.door import Notify, OnQueued

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0
NOTHING_TO_RUN = (
    "counterpoint run: neither Discord nor Reddit has credentials, so there is nothing to start.",
    "Set DISCORD_TOKEN (Developer Portal > your application > Bot > Reset Token) to run the Discord bot, and/or",
    "REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET for Reddit; or try `counterpoint demo`, which needs neither.",
)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_discord and not settings.has_reddit:
        print("\n".join(NOTHING_TO_RUN), file=sys.stderr)
        return EXIT_USAGE
    stop = asyncio.Event()
    _on_signals(stop)
    async with build_resources(settings) as resources:
        return await _serve(resources, stop)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            loop.add_signal_handler(sig, stop.set)


async def _serve(resources: Resources, stop: asyncio.Event) -> int:
    settings = resources.settings
    bot: CounterpointBot | None = None

    async def notify(text: str) -> None:  # the Reddit door tells moderators through the Discord bot, if any
        if bot is not None:
            await bot.notify_moderators(text)
        else:
            log.warning("%s", text)

    async def on_queued(decision: Decision) -> None:
        if bot is not None:
            await bot.review_queued(decision)

    reddit = reddit_door(resources, notify, on_queued) if settings.has_reddit else None
    jobs: dict[str, asyncio.Task[Any]] = {}
    if settings.has_discord and settings.discord_token is not None:
        quiet_voice_warnings()
        bot = CounterpointBot(resources, reddit=reddit)
        jobs["discord"] = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()), name="discord")
    if reddit is not None:
        jobs["reddit"] = asyncio.create_task(reddit.run(stop), name="reddit")
    log.info("running: %s (Ctrl+C or SIGTERM stops)", ", ".join(jobs))
    retention = asyncio.create_task(retention_loop(resources.store, settings.storage.retention_days, stop))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([waiter, *jobs.values()], return_when=asyncio.FIRST_COMPLETED)
    stopped_by_signal = stop.is_set()
    stop.set()
    waiter.cancel()
    await _shut_down(bot, reddit, jobs)
    await retention  # returns as soon as stop is set
    return EXIT_OK if stopped_by_signal else _exit_code(jobs)


def reddit_door(resources: Resources, notify: Notify, on_queued: OnQueued) -> RedditFrontDoor | None:
    """The Reddit front door (bot/reddit/client.py), imported only when Reddit has credentials: `await
    door.run(stop)`, `await door.reply(decision)` and `await door.aclose()`. None when it cannot load."""
    try:
        from bot.reddit.client import RedditFrontDoor
    except ImportError as exc:
        log.warning("Reddit credentials are set but the Reddit front door cannot load (%s)", exc)
        return None
    return RedditFrontDoor(resources, notify=notify, on_queued=on_queued)


async def _shut_down(
    bot: CounterpointBot | None, reddit: RedditFrontDoor | None, jobs: dict[str, asyncio.Task[Any]]
) -> None:
    await _drain()  # handlers in flight finish while the HTTP session is still open
    if bot is not None:
        await bot.close()
    await _drain()
    for name, task in jobs.items():
        try:
            await asyncio.wait_for(asyncio.shield(task), DRAIN_SECONDS)
        except TimeoutError:
            log.warning("%s did not stop in %.0f s; cancelling it", name, DRAIN_SECONDS)
            task.cancel()
        except Exception:  # reported by _exit_code; shutting down goes on
            pass
    if reddit is not None:
        await reddit.aclose()
    log.info("stopped")


async def _drain() -> None:
    """Wait (bounded) for discord.py's event handler tasks; they are named 'discord.py: <event>'."""
    me = asyncio.current_task()
    busy = [t for t in asyncio.all_tasks() if t is not me and t.get_name().startswith("discord.py: on_")]
    if busy:
        await asyncio.wait(busy, timeout=DRAIN_SECONDS)


def _exit_code(jobs: dict[str, asyncio.Task[Any]]) -> int:
    """A front door ended by itself: say why in one sentence."""
    for name, task in jobs.items():
        exc = task.exception() if task.done() and not task.cancelled() else None
        if exc is None:
            continue
        known = discord_failure(exc) if name == "discord" else exc if isinstance(exc, CounterpointError) else None
        if known is not None:
            log.debug("%s stopped", name, exc_info=exc)  # something a user meets, not a bug: no traceback
            print(f"counterpoint run: {known}", file=sys.stderr)
            return known.exit_code
        log.error("%s stopped with an error", name, exc_info=exc)
        print(f"counterpoint run: {name} stopped: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print("counterpoint run: the front doors stopped by themselves.", file=sys.stderr)
    return EXIT_UNAVAILABLE
