"""`counterpoint demo`: replay the bundled discussion through the real pipeline, a temp database and whatever model
answers (the configured server, the embedded one with --embedded-model, or none: the offline engine)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import textwrap
import time
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Resources, build_resources
from bot.llm import embedded as localmodel
from bot.models import Decision, Post, Thread
from bot.pipeline import Policy
from bot.settings import Settings
from bot.summary.digest import DigestScope, build_digest, render_digest
from bot.summary.format import render_summary_text

SCRIPT = Path(__file__).resolve().parent.parent / "data" / "demo_discussion.json"
START = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
POLICY = Policy("reply", cooldown_seconds=600, hourly_cap=6)
WIDTH = 100


class ScriptClock:
    """The demo replays 40 minutes of chat in seconds: cooldowns run on the script's time, not the wall clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _out(text: str = "", indent: int = 0) -> None:
    pad = " " * indent
    for line in text.splitlines() or [""]:
        # long words stay whole: a link broken across lines can be neither clicked nor copied
        wrapped = textwrap.fill(
            line, WIDTH, initial_indent=pad, subsequent_indent=pad, break_long_words=False, break_on_hyphens=False
        )
        print(wrapped if line else "", flush=True)


def _posts(script: dict[str, Any]) -> list[Post]:
    return [
        Post(
            "discord",
            m["id"],
            "demo-thread",
            f"user-{m['author']}",
            m["author"],
            m["text"],
            START + timedelta(minutes=m["minutes"]),
            "demo-channel",
            "demo-guild",
            m.get("reply_to"),
        )
        for m in script["messages"]
    ]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.verbose:  # the demo's own output says which engine answered; INFO lines would only interleave
        logging.getLogger().setLevel(logging.WARNING)
    script = json.loads(SCRIPT.read_text(encoding="utf-8"))
    started = time.perf_counter()
    async with AsyncExitStack() as stack:
        if args.embedded_model:
            why = localmodel.missing()
            if why:
                print(f"counterpoint: the embedded model is not ready: {why}", file=sys.stderr)
                return 3
            _out("Starting the embedded llama.cpp server (SmolLM2-135M: proves the plumbing, not the judgement) ...")
            server = localmodel.EmbeddedServer()
            url = await stack.enter_async_context(server)
            llm = settings.llm.model_copy(update={"base_url": url, "context_tokens": server.slot_context})
            settings = settings.model_copy(update={"llm": llm})
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="counterpoint-demo-"))
        clock = ScriptClock()
        res = await stack.enter_async_context(build_resources(settings, store_path=Path(tmp) / "demo.db", clock=clock))
        await _header(res, script)
        thread = await _replay(res, _posts(script), clock)
        await _summary(res, thread, script["title"])
        await _digest(res, clock)
    _out(
        f"\nDemo finished in {time.perf_counter() - started:.1f} s. Nothing was posted anywhere; the database is gone."
    )
    return 0


async def _header(res: Resources, script: dict[str, Any]) -> None:
    up = await res.llm.available()
    engine = f"the model server at {res.settings.llm.base_url}" if up else "the OFFLINE engine"
    _out("=" * WIDTH)
    _out(f"Counterpoint demo: {script['title']}")
    _out(f"Judging and writing with {engine}.")
    if not up:
        _out(
            f"(No model server answered at {res.settings.llm.base_url}. Start one, e.g. `counterpoint model serve`, "
            "or run `counterpoint demo --embedded-model`.)"
        )
    _out("Mode: reply, 10-minute cooldown per thread; held-back counterpoints go to the moderators' review queue.")
    _out("=" * WIDTH)


async def _replay(res: Resources, posts: list[Post], clock: ScriptClock) -> list[Post]:
    """Every post through the pipeline; returns the thread as Discord would show it, the bot's replies included."""
    by_id = {p.post_id: p for p in posts}
    thread: list[Post] = []
    for post in posts:
        clock.now = post.created_at
        _out(f"\n[{post.created_at:%H:%M}] {post.author_name}: {post.text}")
        parent = by_id[post.parent_id].text if post.parent_id in by_id else None
        decision = await res.pipeline.handle(post, policy=POLICY, parent_text=parent)
        _show(decision)
        thread.append(post)
        if decision.action == "reply" and decision.counterpoint is not None:
            reply = replace(post, post_id=f"bot-{post.post_id}", author_id="bot", author_name="counterpoint-bot",
                            text=decision.counterpoint.text, parent_id=post.post_id, author_is_bot=True)  # fmt: skip
            await res.pipeline.sent(decision, reply.post_id)
            await res.store.add_post(reply)  # as the gateway would echo it back: summaries see the answer
            thread.append(reply)
    return thread


def _show(d: Decision) -> None:
    v = d.verdict
    if v is None:
        _out(f"-> skipped: {d.reason}", 6)
        return
    cues = f"; cues: {', '.join(v.prefilter.cues)}" if v.prefilter.cues else ""
    _out(f"-> {v.label} (score {v.score:.2f}, {v.engine}{cues})", 6)
    if v.reason:
        _out(f"Why: {as_sentence(v.reason)}", 9)
    if d.counterpoint is None:
        return
    where = {
        "reply": "replies in the thread",
        "queue": f"queued for moderators ({d.reason})",
        "shadow": "to moderators",
    }
    cp = d.counterpoint
    _out(f"=> Counterpoint {where.get(d.action, d.action)} [written by: {cp.engine}]", 6)
    _out(cp.text, 9)
    for i, c in enumerate(cp.citations, 1):
        _out(f"[{i}] {c.title} <{c.url}>", 9)


def as_sentence(reason: str) -> str:
    """The engine's terse "a; b; a" reason as one sentence: each point once, in order, a capital and a full stop."""
    head, _, tail = reason.partition(": ") if reason.startswith("below threshold") else ("", "", reason)
    points = [p.strip().removeprefix("and ") for p in tail.split(";")]
    text = ", ".join(dict.fromkeys(p for p in points if p))
    if head:  # "below threshold (0.01)"
        score = head.removeprefix("below threshold").strip(" ()")
        text = f"scored {score} for frames, below the threshold: {text}"
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


async def _summary(res: Resources, posts: list[Post], title: str) -> None:
    _out("\n" + "=" * WIDTH + "\nThread summary (what /summarize shows)\n" + "=" * WIDTH)
    await res.store.upsert_thread(Thread("discord", "demo-thread", title, "demo-channel", "demo-guild"))
    summary = await res.summarizer.summarize(posts, thread_id="demo-thread")
    _out(render_summary_text(summary))


async def _digest(res: Resources, clock: ScriptClock) -> None:
    _out("\n" + "=" * WIDTH + "\nModerator digest (what /modsummary and the daily digest show)\n" + "=" * WIDTH)
    since, until = START - timedelta(hours=1), clock.now + timedelta(minutes=1)
    scope = DigestScope.from_settings(res.settings)
    digest = await build_digest(res.store, res.summarizer, since=since, until=until, scope=scope)
    for piece in render_digest(digest):
        _out(piece)
