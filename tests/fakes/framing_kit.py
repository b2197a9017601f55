"""Helpers for the framing tests: a duck-typed model stub, FakeLLM on its own thread (for CLI tests that call
`bot.__main__.main`, which runs its own event loop), a responder that judges like a tiny model, and the bundled
labelled data."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.fake_llm import FakeLLM

DEV_DATA = Path(__file__).resolve().parents[2] / "bot" / "data"  # the bundled labelled sets


class StubLLM:
    """The two methods the detector uses. `reply` is a dict or a function of the messages."""

    def __init__(
        self, reply: Any = None, *, up: bool = True, error: Exception | None = None
    ) -> None:  # fmt: skip
        self.reply = reply
        self.up = up
        self.error = error
        self.requests: list[dict[str, Any]] = []

    async def available(self) -> bool:
        return self.up

    async def chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        name: str = "reply",
        max_tokens: int | None = None,
    ) -> Any:
        self.requests.append({"messages": messages, "schema": schema, "name": name, "max_tokens": max_tokens})
        if self.error is not None:
            raise self.error
        return self.reply(messages) if callable(self.reply) else self.reply


def post_of(messages: list[dict[str, Any]]) -> str:
    """The post text inside the user message's <post> block."""
    found = re.search(r"<post>\n(.*)\n</post>", messages[-1]["content"], re.DOTALL)
    return found.group(1) if found else ""


def keyword_judge(body_or_messages: Any) -> dict[str, Any]:
    """A stand-in model: "race"/"war" with China named -> frames (quoting the first sentence), else mentions."""
    messages = body_or_messages["messages"] if isinstance(body_or_messages, dict) else body_or_messages
    post = post_of(messages)
    first = re.split(r"(?<=[.!?])\s", post)[0]
    if re.search(r"\b(race|war)\b", post, re.I) and "China" in post:
        return {"label": "frames", "confidence": 0.9, "quote": first, "reason": "national race"}
    return {"label": "mentions", "confidence": 0.8, "quote": "", "reason": "no national contest"}


@contextmanager
def threaded_fake_llm(responder: Callable[[dict[str, Any]], Any] | None = None) -> Iterator[FakeLLM]:
    """FakeLLM served from a background event loop, so a test can call the CLI's own asyncio.run()."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeLLM(responder)
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def dev_rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DEV_DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
