"""`counterpoint check [--json] [--engine E] [--parent TEXT] TEXT|-`: the framing verdict for one text."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AsyncExitStack
from typing import Any

from bot.errors import EXIT_USAGE, LLMUnavailable
from bot.framing.detector import Detector
from bot.models import Verdict
from bot.serialize import verdict_to_dict
from bot.settings import Settings
from bot.text.clean import fold
from bot.text.files import MAX_TEXT_BYTES, read_stdin


async def run(args: argparse.Namespace, settings: Settings) -> int:
    text = read_stdin(limit=MAX_TEXT_BYTES) if args.text == "-" else str(args.text)
    if not text.strip():
        print("counterpoint: nothing to check: the text is empty.", file=sys.stderr)
        return EXIT_USAGE
    engine = args.engine or settings.framing.engine
    async with AsyncExitStack() as stack:
        llm = None
        if engine != "lexical":  # the model client only when the engine may need it
            from bot.llm.client import LLMClient

            llm = await stack.enter_async_context(LLMClient(settings.llm))
            if engine == "llm" and not await llm.available():
                raise LLMUnavailable(
                    f"No model answers at {settings.llm.base_url}; start it, or use --engine auto or lexical."
                )
        verdict = await Detector.from_settings(settings, llm).detect(text, parent=args.parent, engine=engine)
        doc: dict[str, Any] = {"text": text, "verdict": verdict_to_dict(verdict)}
        if verdict.frames:  # with the model when it answers, else the library's cited template
            from bot.counterpoint.composer import build_composer, counterpoint_json

            doc["counterpoint"] = counterpoint_json(await build_composer(settings, llm).compose(text, verdict))
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(render_verdict(verdict, doc.get("counterpoint")))
    return 0


def render_verdict(v: Verdict, counterpoint: dict[str, Any] | None = None) -> str:
    pf = v.prefilter
    cues = ", ".join(pf.cues) or "none"
    lines = [
        f"verdict:   {v.label} (score {v.score:.2f}, engine {v.engine})",
        f"prefilter: {'passed' if pf.passed else 'not passed'} (cues: {cues})",
    ]
    if v.quote:
        lines.append(f'quote:     "{fold(v.quote)}"')  # no bidi override or invisible character reaches the terminal
    if v.reason:
        lines.append(f"reason:    {v.reason}")
    if counterpoint:
        lines += ["", str(counterpoint.get("text", ""))]
        lines += [f"  [{n}] {c['title']} {c['url']}" for n, c in enumerate(counterpoint.get("citations", []), 1)]
    return "\n".join(lines)
