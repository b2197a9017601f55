"""`counterpoint calibrate [--time-budget S] [--sample N]`: measure the configured model on the bundled labelled set
and store which engine `auto` should use (bot/framing/calibration.py says how the winner is chosen).

Only posts the prefilter passes cost a model call; the others are `frames` for no engine. The model is measured
twice, without and with worked examples from the bundled set in the prompt; the examples are kept only if they
win, and the rows they come from are never graded. Posts the time budget leaves unjudged are left out of every
engine's figures alike.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

from bot.errors import LLMUnavailable
from bot.framing.bundled import chatter_items, framing_items
from bot.framing.calibration import Calibration, Decision, choose, model_key, save
from bot.framing.detector import Detector
from bot.framing.evaluate import Item
from bot.framing.judge import few_shot_items, few_shot_messages
from bot.framing.lexical import lexical_verdict
from bot.progress import Progress
from bot.settings import Settings

SEED = 13


def calibration_items(sample: int | None) -> list[Item]:
    """Clear framing rows (minus the few-shot examples) and random chatter; --sample keeps half of each kind."""
    framing = framing_items()
    shots = {i.id for i in few_shot_items(framing)}
    labelled = [i for i in framing if not i.borderline and i.id not in shots]
    chatter = [i for i in chatter_items() if not i.targeted]
    if sample:
        rng = random.Random(SEED)
        labelled = rng.sample(labelled, min(len(labelled), sample - sample // 2))
        chatter = rng.sample(chatter, min(len(chatter), sample // 2))
    return labelled + chatter


# More failed model calls than this share of those asked and nothing is stored: the figures would describe the
# offline engine standing in for a model that timed out, not the model.
MAX_FAILED_SHARE = 0.2


async def model_decisions(
    detector: Detector, items: list[Item], deadline: float, label: str, *, concurrency: int
) -> list[Decision]:
    """Gold, offline and model decision per item. Items the deadline leaves unjudged and items whose model call
    failed are dropped from every engine's figures alike; too many failures is an error, not a measurement."""
    slots = asyncio.Semaphore(concurrency)
    asked = [i for i in items if lexical_verdict(i.text).prefilter.passed]
    failed = 0

    async def one(item: Item, progress: Progress) -> Decision | None:
        nonlocal failed
        offline = lexical_verdict(item.text, threshold=detector.framing.lexical_threshold)
        if not offline.prefilter.passed:
            return Decision(item.label == "frames", False, False)
        async with slots:
            if time.monotonic() > deadline:
                return None
            verdict = await detector.detect(item.text, engine="llm")
        progress.advance()
        if verdict.engine != "llm":  # the call failed and offline answered: no evidence about the model
            failed += 1
            return None
        return Decision(item.label == "frames", offline.frames, verdict.frames)

    with Progress(label, len(asked), unit="posts") as progress:
        decisions = await asyncio.gather(*(one(i, progress) for i in items))
    if asked and failed > MAX_FAILED_SHARE * len(asked):
        raise LLMUnavailable(
            f"{failed} of {len(asked)} model calls failed or timed out ({label}); nothing stored. "
            "Give the model server more time (llm.read_timeout) or a lighter load, then calibrate again."
        )
    return [d for d in decisions if d is not None]


def render(cal: Calibration, other: Calibration) -> str:
    lines = [f"{'engine':<10}{'precision':>10}{'recall':>8}{'F1':>8}{'false+':>8}"]
    for engine, f in cal.figures.items():
        lines.append(f"{engine:<10}{f['precision']!s:>10}{f['recall']!s:>8}{f['f1']!s:>8}{f['fp']!s:>8}")
    shots = "with" if cal.few_shot else "without"
    lines.append(f"few-shot examples: kept {shots} (best F1 with {cal.figures[cal.engine]['f1']} vs "
                 f"{other.figures[other.engine]['f1']} {'without' if cal.few_shot else 'with'})")  # fmt: skip
    lines.append(f"auto: {cal.line()}")
    return "\n".join(lines)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.llm.client import LLMClient  # only here: the command needs a model

    items = calibration_items(args.sample)
    key, n = model_key(settings.llm.base_url, settings.llm.model), settings.llm.concurrency
    deadline = time.monotonic() + args.time_budget / 2  # half the budget for each prompt variant
    async with LLMClient(settings.llm) as llm:
        if not await llm.available():
            raise LLMUnavailable(f"No model answers at {settings.llm.base_url}; start it, then calibrate.")
        detector = Detector.from_settings(settings, llm)
        detector.examples = []
        plain = choose(await model_decisions(detector, items, deadline, "plain prompt", concurrency=n), model=key)
        detector.examples = few_shot_messages(framing_items())
        deadline = time.monotonic() + args.time_budget / 2
        shots = choose(
            await model_decisions(detector, items, deadline, "few-shot", concurrency=n), model=key, few_shot=True
        )
    better = shots.figures[shots.engine]["f1"] > plain.figures[plain.engine]["f1"] and shots.engine != "lexical"
    cal, other = (shots, plain) if better else (plain, shots)
    path = save(cal)
    print(render(cal, other))
    print(f"calibrate: stored in {path}", file=sys.stderr)
    return 0
