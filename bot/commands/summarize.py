"""`counterpoint summarize [--json] SRC`: summarize a thread export, a Reddit URL, or stdin (`-`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.errors import InputError
from bot.llm.client import LLMClient
from bot.models import Post, Thread
from bot.progress import Progress
from bot.serialize import summary_to_dict, thread_to_dict
from bot.settings import Settings
from bot.summary.exports import is_reddit_url, load_export
from bot.summary.format import render_summary_text
from bot.summary.summarizer import Summarizer

PROGRESS_FROM = 200  # messages: shorter threads finish before progress would help


async def run(args: argparse.Namespace, settings: Settings) -> int:
    source = str(args.source)
    if is_reddit_url(source):
        thread, posts = await fetch_reddit(settings, source)
    else:
        thread, posts = load_export(source)
    async with LLMClient(settings.llm) as llm:
        summarizer = Summarizer.from_settings(settings, llm)
        if await llm.available():
            _say(f"Summarizing {len(posts)} messages with the model at {settings.llm.base_url}.")
        else:
            _say(f"No model answers at {settings.llm.base_url}; writing an extractive summary (no model) instead.")
        bars = _Bars() if len(posts) >= PROGRESS_FROM else None
        try:
            summary = await summarizer.summarize(posts, thread_id=thread.thread_id, progress=bars)
        finally:
            if bars is not None:
                bars.close()
    links = {p.post_id: p.url for p in posts if p.url}
    if args.json:
        if summary.note:
            _say(summary.note)
        doc = {"thread": thread_to_dict(thread), "summary": _with_links(summary_to_dict(summary), links),
               "model_calls": summarizer.calls}  # fmt: skip
        print(json.dumps(doc, ensure_ascii=False))
    else:
        title = f"{thread.title}\n" if thread.title else ""
        print(title + render_summary_text(summary, link=lambda i: links.get(i) or i))
    return 0


def _with_links(doc: dict[str, Any], links: dict[str, str]) -> dict[str, Any]:
    """Each point's `links`: the jump links (Discord) or permalinks (Reddit) of its sources, where the input had
    the ids to build them; `links` at the top maps every cited id to its link."""
    cited: dict[str, str] = {}
    for section in ("points", "disagreements", "open_questions", "framing"):
        for point in doc.get(section, []):
            point["links"] = [links[i] for i in point["source_ids"] if i in links]
            cited |= {i: links[i] for i in point["source_ids"] if i in links}
    doc["links"] = cited
    return doc


async def fetch_reddit(settings: Settings, url: str) -> tuple[Thread, list[Post]]:
    """The thread behind a Reddit URL, through the Reddit adapter (bot/reddit/client.py)."""
    if not settings.has_reddit:
        raise InputError(
            "Summarizing a Reddit URL needs REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET; set them, or save the "
            "page's .json (the URL with .json appended) and pass that file."
        )
    from bot.reddit.client import fetch_thread  # imported here: praw loads only for a Reddit URL

    return await fetch_thread(settings, url)


class _Bars:
    """The summarizer's progress callback: one bar per stage on a terminal, else a line every tenth of a stage."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: Progress | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None or done < self.bar.done:
            self.close()
            what = {"map": "reading parts", "reduce": "merging", "update": "updating"}.get(stage, stage)
            self.stage, self.bar = stage, Progress(what, total, unit="")
        self.bar.set(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
