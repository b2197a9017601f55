"""`counterpoint doctor`: one line per check.

Exit codes: 0 everything configured works (warnings, e.g. no model server, do not count: the model is optional
unless framing.engine is "llm"); 1 at least one check failed; 2 the settings cannot be loaded.
Secrets are reported as "set" or "missing", never shown.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

from bot.app import open_store
from bot.counterpoint.library import Library
from bot.errors import CounterpointError
from bot.framing import calibration
from bot.llm.client import LLMClient
from bot.settings import Settings
from bot.store.dsn import redact

log = logging.getLogger(__name__)

PROMPTS = ("framing.md", "counterpoint.md", "summary_map.md", "summary_reduce.md", "summary_update.md")
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail" | "info"
    detail: str

    def line(self) -> str:
        mark = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "info": "[--]  "}[self.status]
        return f"{mark} {self.name}: {self.detail}"


def _config_checks(settings: Settings) -> list[Check]:
    checks = [Check("config", "ok", f"loaded {settings.config_path}")]
    try:
        lib = Library.load(settings.library_path())
        checks.append(Check("source library", "ok", f"{len(lib.sources)} sources, {len(lib.themes)} themes"))
    except CounterpointError as exc:
        checks.append(Check("source library", "fail", str(exc)))
    missing = [p for p in PROMPTS if not (settings.prompts_dir() / p).is_file()]
    status = "fail" if missing else "ok"
    checks.append(Check("prompts", status, f"missing {', '.join(missing)}" if missing else "all present"))
    return checks


async def _storage_check(settings: Settings) -> Check:
    path = redact(settings.storage.path)  # a PostgreSQL DSN may carry a password
    try:
        async with open_store(settings.storage.path, busy_timeout_ms=settings.storage.busy_timeout_ms) as store:
            await store.set_checkpoint("doctor", "ok")
            result = await store.integrity_check()
            version = await store.schema_version()
    except CounterpointError as exc:
        return Check("storage", "fail", str(exc))
    if result != "ok":
        return Check("storage", "fail", f"{path}: integrity check says {result}")
    return Check("storage", "ok", f"{path} is writable (schema v{version})")


async def _model_checks(settings: Settings) -> list[Check]:
    async with LLMClient(settings.llm) as llm:
        health = await llm.health(force=True)
        if not health.ok:
            # optional: without a model the bot answers with its offline engines, unless told to use only the model
            status = "fail" if settings.framing.engine == "llm" else "warn"
            optional = "" if status == "fail" else "; optional: the offline engines answer meanwhile"
            return [
                Check(
                    "model endpoint",
                    status,
                    f"{health.detail} (start a model server or set llm.base_url{optional})",
                ),
                Check("JSON mode", "info", "skipped: no model endpoint"),
            ]
        listed = ", ".join(health.models[:3]) or "no models listed"
        checks = [Check("model endpoint", "ok", f"{settings.llm.base_url} lists {listed}")]
        checks.append(Check("framing engine", "info", calibration.describe(settings)))
        if settings.llm.model and settings.llm.model not in health.models:
            checks.append(Check("model", "fail", f"llm.model {settings.llm.model!r} is not listed by the server"))
        try:
            messages = [{"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}]
            await llm.chat_json(messages, _PROBE_SCHEMA, name="probe", max_tokens=32)
            checks.append(Check("JSON mode", "ok", f"{llm.json_mode_label} (structured replies work)"))
        except CounterpointError as exc:
            checks.append(Check("JSON mode", "fail", str(exc)))
        return checks


def _credential_checks(settings: Settings) -> list[Check]:
    def state(value: object) -> str:
        secret = getattr(value, "get_secret_value", None)
        present = bool(secret() if secret else value)
        return "set" if present else "missing"

    discord = f"DISCORD_TOKEN {state(settings.discord_token)}"
    reddit = ", ".join(
        f"{name} {state(getattr(settings, name.lower()))}"
        for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")
    )
    checks = [
        Check("discord", "ok" if settings.has_discord else "info", discord),
        Check("reddit", "ok" if settings.has_reddit else "info", reddit),
    ]
    if settings.has_reddit and not settings.reddit.subreddits:
        checks.append(Check("reddit subreddits", "info", "reddit.subreddits is empty: nothing to watch"))
    if not settings.has_discord and not settings.has_reddit:
        checks.append(Check("front doors", "info", "no platform credentials: `counterpoint demo` still works"))
    return checks


async def run(args: argparse.Namespace, settings: Settings) -> int:
    checks = _config_checks(settings)
    checks.append(await _storage_check(settings))
    checks.extend(await _model_checks(settings))
    checks.extend(_credential_checks(settings))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.status == "fail"]
    warned = [c for c in checks if c.status == "warn"]
    summary = f"{len(failed)} check(s) failed" if failed else "everything configured works"
    if warned:
        summary += f" ({len(warned)} warning(s))"
    print(summary, file=sys.stderr)
    return 1 if failed else 0
