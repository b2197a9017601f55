"""The composition root's parts: every long-lived resource built once, with `async with`, and passed in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.counterpoint import Composer, build_composer
from bot.framing import Detector
from bot.llm import LLMClient
from bot.models import utcnow
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store
from bot.summarize import Summarizer

log = logging.getLogger(__name__)


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
        Store.open(path, busy_timeout_ms=settings.storage.busy_timeout_ms, clock=clock) as store,
        LLMClient(settings.llm) as llm,
    ):
        detector = Detector(settings, llm)
        composer = build_composer(settings, llm, store)
        await composer.refresh_library()
        summarizer = Summarizer(settings, llm, store)
        pipeline = Pipeline(settings, store, detector, composer, clock=clock)
        if settings.storage.retention_days:
            purged = await store.purge_text_older_than(settings.storage.retention_days)
            if purged:
                log.info(
                    "retention: purged the text of %d posts older than %d days",
                    purged,
                    settings.storage.retention_days,
                )
        yield Resources(settings, store, llm, detector, composer, summarizer, pipeline)


def describe_engine(available: bool, settings: Settings) -> str:
    if available:
        return f"model server at {settings.llm.base_url}"
    return f"offline engine (no model server answered at {settings.llm.base_url})"
