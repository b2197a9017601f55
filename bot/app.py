"""The composition root's parts: every long-lived resource built once, with `async with`, and passed in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.counterpoint.composer import Composer
from bot.counterpoint.library import Library
from bot.errors import StoreError
from bot.framing.calibration import model_key
from bot.framing.detector import Detector
from bot.llm.client import LLMClient
from bot.models import utcnow
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store
from bot.summary.summarizer import Summarizer

log = logging.getLogger(__name__)

RETENTION_EVERY = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    store: Store
    llm: LLMClient
    detector: Detector
    composer: Composer
    summarizer: Summarizer
    pipeline: Pipeline


@asynccontextmanager
async def build_resources(
    settings: Settings, *, store_path: str | Path | None = None, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Resources]:
    """Open the store and the model client, wire the core together, and close everything on the way out.

    A model server that is down is not an error here: detector, composer and summarizer degrade by themselves.
    """
    path = store_path or settings.storage.path
    async with (
        open_store(path, busy_timeout_ms=settings.storage.busy_timeout_ms, clock=clock) as store,
        LLMClient(settings.llm) as llm,
    ):
        prompts, model = settings.prompts_dir(), model_key(settings.llm.base_url, settings.llm.model)
        detector = Detector(settings.framing, llm, prompts_dir=prompts, model=model)
        composer = Composer(
            settings.counterpoint, Library.load(settings.library_path()), llm, store, prompts_dir=prompts
        )
        await composer.refresh_library()
        summarizer = Summarizer(settings.summarize, settings.llm, llm, store, prompts_dir=prompts)
        pipeline = Pipeline.from_settings(settings, store, detector, composer, clock=clock)
        await purge_old_text(store, settings.storage.retention_days)
        yield Resources(settings, store, llm, detector, composer, summarizer, pipeline)


def open_store(
    path: str | Path, *, busy_timeout_ms: int, clock: Callable[[], datetime] = utcnow
) -> AbstractAsyncContextManager[Store]:
    """SQLite by default; PostgreSQL when storage.path is a postgresql:// (or postgres://) DSN."""
    return Store.open(path, busy_timeout_ms=busy_timeout_ms, clock=clock)


async def purge_old_text(store: Store, days: int) -> int:
    """storage.retention_days: the text of older posts is removed for good (0 keeps everything)."""
    if not days:
        return 0
    purged = int(await store.purge_text_older_than(days))
    if purged:
        log.info("retention: purged the text of %d posts older than %d days", purged, days)
    return purged


async def retention_loop(store: Store, days: int, stop: asyncio.Event, *, every: float = RETENTION_EVERY) -> None:
    """A long-running bot purges old text every few hours, not only at start-up; a failed purge is retried later."""
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            await purge_old_text(store, days)
            await store.purge_rate_events()  # limit counters older than every window: the table stays small
        except StoreError as exc:
            log.warning("retention purge failed, will retry in %.0f h: %s", every / 3600, exc)
