"""Helpers shared by the fault, hostile-input and load tests: settings for a real core wired by build_resources,
a FakeLLM responder that judges and writes counterpoints like a small obedient model, and post builders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.models import Post
from bot.pipeline import Policy
from bot.settings import Settings, load_settings
from tests.fakes.fake_llm import unused_base_url

FRAMING = "The US must win the AI race against China before Beijing does, whoever wins controls the future."
ORDINARY = "I had pasta for lunch today, and the weather is nice."
GOOD = "It is fair to care about who leads, but open-weight versus closed matters more than the flag [1][2]."
REPLY = Policy("reply", cooldown_seconds=600, hourly_cap=6)
_SOURCE_LINE = re.compile(r"^\[(\d+)\] id: (\S+) \|", re.M)
_POST = re.compile(r"<post>\n(.*)\n</post>", re.S)


def core_settings(tmp_path: Path, base_url: str | None = None, **sections: Any) -> Settings:
    """A real configuration: temp database, the model at `base_url` (nothing listening when None), short model
    timeouts so a fault costs seconds, not minutes."""
    llm = {
        "base_url": base_url or unused_base_url(), "model": "fake-model", "connect_timeout": 0.5,
        "read_timeout": 1.0, "deadline": 1.5, "max_retries": 1, "concurrency": 4,
    }  # fmt: skip
    llm.update(sections.pop("llm", {}))
    storage = {"path": str(tmp_path / "data" / "bot.sqlite3"), "retention_days": 0, **sections.pop("storage", {})}
    framing = {"engine": "auto", **sections.pop("framing", {})}
    return load_settings(None, llm=llm, storage=storage, framing=framing, **sections)


def post(post_id: str, text: str = FRAMING, *, thread: str = "t1", author: str = "u1", **kw: Any) -> Post:
    return Post("discord", post_id, thread, author, f"user-{author}", text, datetime.now(UTC), "c1", "g1", **kw)


def is_counterpoint_request(body: dict[str, Any]) -> bool:
    return str(body["messages"][0]["content"]).startswith("You write short")


def offered(body: dict[str, Any]) -> list[str]:
    """Source ids the composer offered the model, in prompt order."""
    return [sid for _n, sid in _SOURCE_LINE.findall(str(body["messages"][-1]["content"]))]


def post_in(body: dict[str, Any]) -> str:
    found = _POST.search(str(body["messages"][-1]["content"]))
    return found.group(1) if found else ""


def verdict_reply(body: dict[str, Any], label: str = "frames") -> dict[str, Any]:
    text = post_in(body)
    quote = re.split(r"(?<=[.!?。！？])\s*", text)[0][:200]
    return {"label": label, "confidence": 0.95, "quote": quote, "reason": "national race"}


def obedient(counterpoint_text: str | None = None) -> Any:
    """A model that labels every post it is asked about "frames" and answers the composer with
    `counterpoint_text` (default: a clean, cited reply), citing the first two offered sources."""

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        if is_counterpoint_request(body):
            return {"text": counterpoint_text or GOOD, "source_ids": offered(body)[:2]}
        return verdict_reply(body)

    return respond


def discord_section(fake: Any, **overrides: Any) -> dict[str, Any]:
    """The [discord] settings pointing the real client at a FakeDiscord, watching #general."""
    return {
        "api_base": fake.api_base, "gateway_url": fake.gateway_url, "mode": "reply",
        "watch_channels": [str(fake.general)], "mod_channel": str(fake.mods), "digest_time": "23:59", **overrides,
    }  # fmt: skip


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON-like value (a request body, an embed), depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []
