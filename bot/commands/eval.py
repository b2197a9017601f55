"""`counterpoint eval --dataset FILE [--engine auto|llm|lexical] [--per-item] [--json | --jsonl]`: measure the
detector.

--json prints one JSON document (the report; with --per-item also every item, under "per_item"). --jsonl (or
--per-item without --json) prints one JSON line per item and nothing else on stdout; the report goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from bot.errors import LLMUnavailable
from bot.framing.detector import Detector
from bot.framing.evaluate import Item, Outcome, load_dataset, per_item, render_text, report
from bot.progress import Progress
from bot.settings import Settings

PROGRESS_EVERY = 50


async def run(args: argparse.Namespace, settings: Settings) -> int:
    items = load_dataset(args.dataset)
    engine = args.engine
    if engine == "lexical":
        detector = Detector.from_settings(settings, None)
        outcomes = await evaluate(detector, items, engine=engine, concurrency=1)
    else:
        from bot.llm.client import LLMClient  # only when the engine may need the model

        async with LLMClient(settings.llm) as llm:
            up = await llm.available()
            if engine == "llm" and not up:
                raise LLMUnavailable(f"No model answers at {settings.llm.base_url}; start it or use --engine lexical.")
            if not up:
                print(
                    f"eval: no model answers at {settings.llm.base_url}; the lexical engine answers.", file=sys.stderr
                )
            detector = Detector.from_settings(settings, llm)
            outcomes = await evaluate(detector, items, engine=engine, concurrency=settings.llm.concurrency)
    summary = report(outcomes, dataset=str(args.dataset), engine=engine, model_calls=detector.calls)
    if args.json:
        if args.per_item:
            summary["per_item"] = [per_item(o) for o in outcomes]
        print(json.dumps(summary, ensure_ascii=False))
    elif args.jsonl or args.per_item:
        for o in outcomes:
            print(json.dumps(per_item(o), ensure_ascii=False))
        print(render_text(summary), file=sys.stderr)
    else:
        print(render_text(summary))
    return 0


async def evaluate(detector: Detector, items: list[Item], *, engine: str, concurrency: int) -> list[Outcome]:
    """Every item through the detector, `concurrency` at a time; progress on stderr for long sets."""
    slots = asyncio.Semaphore(concurrency)
    progress = Progress("eval", len(items), every=PROGRESS_EVERY) if len(items) > PROGRESS_EVERY else None

    async def one(item: Item) -> Outcome:
        async with slots:
            start = time.perf_counter()
            v = await detector.detect(item.text, parent=item.parent, engine=engine)
            seconds = time.perf_counter() - start
        if progress is not None:
            progress.advance()
        return Outcome(item, v.label, v.prefilter.passed, v.engine, v.score, seconds)

    try:
        return list(await asyncio.gather(*(one(item) for item in items)))
    finally:
        if progress is not None:
            progress.close()
