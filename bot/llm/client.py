"""OpenAI-compatible chat client for a LOCAL model server: chat(), chat_json(schema), stream(), health().

Every call has an overall deadline (`asyncio.timeout`: httpx's read timeout is per chunk), waits for one of
`llm.concurrency` slots, and retries connection errors, 429 and 5xx with backoff and jitter (tenacity). Reasoning
blocks (`<think>...</think>`) are stripped from every text. Errors are typed: LLMUnavailable, LLMTimeout,
LLMBadResponse (bot.errors); their messages name the server, never the API key.

What differs between the servers we target (from their documentation; the README has the operator view):
- llama.cpp `llama-server`: `/v1/models` lists exactly one model (the alias or file path); `response_format`
  accepts `json_object` and `json_schema` (grammar-constrained); some early-2025 builds answered 400
  "Either json_schema or grammar can be specified" to the OpenAI json_schema shape, hence the fallback below.
  Reports cached prompt tokens as `usage.prompt_tokens_details.cached_tokens` (recent) or `timings.cache_n`.
  `POST /tokenize {"content"}` at the server root (not under /v1) gives exact counts. `/health` answers 503
  "Loading model" while the model loads; a 503 on a completion is retried here. It may close a kept-alive
  connection, surfacing as RemoteProtocolError on the next request (retried). Reasoning goes to
  `reasoning_content` by default, which we ignore.
- llama-cpp-python's server: `response_format` takes only "text" or "json_object" (the schema in a `schema` field
  beside the type); `json_schema` is answered with HTTP 500 and pydantic's "Input should be 'text' or
  'json_object'", which the client takes as a refusal (no retries). No /tokenize at the root.
- Ollama `/v1`: OpenAI compatibility is "experimental"; supports `response_format` (`json_object`, and
  `json_schema` since v0.5 via its grammar sampler); the API key is ignored; `model` is required (we take the
  first listed when llm.model is empty); no /tokenize (404, remembered) and no cached-token counts.
- vLLM: structured outputs through `response_format` `json_schema` (xgrammar/guidance backends; the old
  `guided_json` extra was removed in v0.12); `cached_tokens` only with `--enable-prompt-tokens-details`;
  `/tokenize` expects `prompt` rather than `content`, so we send both fields; `--api-key` enforces Bearer auth.
- LM Studio: `json_schema` supported; `json_object` is refused with 400 "'response_format.type' must be
  'json_schema' or 'text'" (should json_schema be refused, auto mode ends at prompt-only); `/v1/models` lists models
  that are downloaded but not loaded (JIT loading makes the first call slow).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpx

from bot.errors import LLMBadResponse, LLMTimeout
from bot.llm.http import Rejected, delta_text, sse_events, usage_of
from bot.llm.structured import (
    MODE_LABELS,
    JsonMode,
    ThinkFilter,
    from_ollama,
    modes_from,
    ollama_body,
    parse_reply,
    repair_messages,
    schema_instruction,
    structured_fields,
    with_system_note,
)
from bot.llm.transport import Budget, Transport, capped_lines
from bot.models import Usage
from bot.settings import LLMSettings
from bot.text.clean import strip_think

log = logging.getLogger(__name__)

HEALTH_TTL_OK = 30.0
HEALTH_TTL_DOWN = 5.0  # a server that is down is probed again sooner, so recovery is noticed quickly
# A server can list its models yet never answer (overloaded, stuck, far too slow for this machine). After a call
# times out, available() says no for this long, so the offline engines answer at once
# instead of every post waiting out another deadline (measured: 60 s per post on a stuck embedded server).
HEALTH_TTL_TRIPPED = 30.0
PROBE_SECONDS = 10.0
# The JSON mode each server (by base_url) accepted, for the life of the process: a second client for the same
# server (every `check`, each cog) starts there instead of meeting the same refusals again.
_ACCEPTED_MODES: dict[str, JsonMode] = {}


class JsonModel(Protocol):
    """What the core (detector, composer, summarizer) needs of LLMClient: one JSON reply, and whether it answers."""

    async def chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        name: str = ...,
        max_tokens: int | None = ...,
        accept: dict[str, Any] | None = ...,
    ) -> Any: ...

    async def available(self) -> bool: ...


def forget_json_modes() -> None:
    """Forget every server's accepted JSON mode (tests that reuse a port; a server replaced at the same URL)."""
    _ACCEPTED_MODES.clear()


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    usage: Usage
    model: str
    finish_reason: str | None


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    models: tuple[str, ...]
    detail: str


class LLMClient:
    """`async with LLMClient(settings) as llm:`. Pass `http` to share an AsyncClient (our timeouts are set per
    request). `backoff`/`backoff_max` are the retry waits in seconds; tests make them tiny."""

    def __init__(
        self,
        settings: LLMSettings,
        http: httpx.AsyncClient | None = None,
        *,
        backoff: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self._settings = settings
        self._t = Transport(settings, http, backoff, backoff_max)
        self._server_key = settings.base_url.rstrip("/")
        forced = settings.json_mode
        self._json_mode: JsonMode = _ACCEPTED_MODES.get(self._server_key, "json_schema") if forced == "auto" else forced
        self._health: Health | None = None
        self._health_until = 0.0
        self._tokenize_ok: bool | None = None
        self.usage_totals = Usage()
        self.calls = 0

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._t.aclose()

    @property
    def json_mode(self) -> JsonMode:
        """The structured-output mode in use; auto mode settles on the first one the server accepts."""
        return self._json_mode

    @property
    def json_mode_label(self) -> str:
        """The mode in words, as doctor shows it ("json_object with schema")."""
        return MODE_LABELS[self._json_mode]

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        deadline: float | None = None,
    ) -> ChatResult:
        result, _raw = await self._complete(messages, None, max_tokens, temperature, self._t.budget(deadline))
        if not result.text:
            raise LLMBadResponse(
                f"model at {self._t.shown} returned no text (finish_reason={result.finish_reason}); "
                "a reasoning model may need a larger llm.max_tokens"
            )
        return result

    async def chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        name: str = "reply",
        max_tokens: int | None = None,
        deadline: float | None = None,
        accept: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A reply validated against `accept` (default: `schema`, which is what the server's grammar gets); one repair
        turn if it does not validate, then LLMBadResponse. A looser `accept` keeps a reply that a server without a
        grammar wrote slightly outside `schema` (the caller drops the parts it cannot use). The deadline covers the
        format fallbacks and the repair."""
        budget = self._t.budget(deadline)
        check = schema if accept is None else accept
        messages = with_system_note(messages, schema_instruction(schema))
        raw, mode = await self._first_accepted(messages, schema, name, max_tokens, budget)
        value, problem = parse_reply(raw, check)
        if value is not None:
            return value
        log.info("model reply breaks the %r schema (%s); asking once for a repair", name, problem)
        repair = repair_messages(messages, raw, problem)
        raw = await self._ask(repair, mode, schema=schema, name=name, max_tokens=max_tokens, budget=budget)
        value, problem = parse_reply(raw, check)
        if value is not None:
            return value
        raise LLMBadResponse(f"model reply does not follow the {name!r} schema, even after one repair: {problem}")

    async def stream(
        self, messages: list[dict[str, str]], *, max_tokens: int | None = None, deadline: float | None = None
    ) -> AsyncIterator[str]:
        """Text deltas as they arrive, `<think>` blocks removed even when split across chunks. Retried only
        until the response starts; a stall raises LLMTimeout, a dropped connection LLMUnavailable."""
        budget, t = self._t.budget(deadline), self._t
        body = await t.guard(budget, self._body(messages, None, max_tokens, None, budget))
        body |= {"stream": True, "stream_options": {"include_usage": True}}
        await t.guard(budget, t.slots.acquire())
        try:
            response = await t.guard(budget, t.open_stream(budget, body))
            events = sse_events(capped_lines(response.aiter_text(), t.shown), t.shown)
            think, received, usage = ThinkFilter(), 0, Usage()
            try:
                while (event := await t.guard(budget, _next_event(t, events, received))) is not None:
                    usage = usage_of(event) if event.get("usage") else usage
                    delta = delta_text(event)
                    received += len(delta)
                    if text := think.feed(delta):
                        yield text
                if tail := think.flush():
                    yield tail
                self._record(usage)
            finally:
                await events.aclose()
                await response.aclose()
        finally:
            t.slots.release()

    async def health(self, *, force: bool = False) -> Health:
        """GET {base}/models; cached (30 s when up, 5 s when down); never raises."""
        now = time.monotonic()
        if self._health is not None and not force and now < self._health_until:
            return self._health
        health = await self._probe()
        self._health = health
        self._health_until = now + (HEALTH_TTL_OK if health.ok else HEALTH_TTL_DOWN)
        return health

    async def available(self) -> bool:
        return (await self.health()).ok

    async def count_tokens(self, text: str) -> int | None:
        """Exact count from llama.cpp's `/tokenize` (vLLM's too); None where unsupported (remembered)."""
        if self._tokenize_ok is False:
            return None
        count, definitive = await self._t.tokenize(text, min(self._settings.deadline, PROBE_SECONDS))
        if count is not None:
            self._tokenize_ok = True
        elif definitive and self._tokenize_ok is None:
            log.info("%s has no usable /tokenize; token counts will be estimated", self._t.shown)
            self._tokenize_ok = False
        return count

    # ---- internals ----------------------------------------------------------------------------------------

    async def _body(
        self,
        messages: list[dict[str, str]],
        extra: dict[str, Any] | None,
        max_tokens: int | None,
        temperature: float | None,
        budget: Budget,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": await self._t.model_name(budget),
            "messages": messages,
            "temperature": self._settings.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self._settings.max_tokens,
            "stream": False,
        }
        return body | (extra or {})

    async def _complete(
        self,
        messages: list[dict[str, str]],
        extra: dict[str, Any] | None,
        max_tokens: int | None,
        temperature: float | None,
        budget: Budget,
    ) -> tuple[ChatResult, str]:
        """One non-streamed completion, retried -> (result with <think> stripped, raw content)."""

        async def run() -> Any:
            body = await self._body(messages, extra, max_tokens, temperature, budget)
            return await self._t.post_chat(budget, body)

        try:
            return self._result(await self._t.guard(budget, run()))
        except LLMTimeout as exc:  # refused connections show in the health probe already; a stuck server does not
            self._trip(exc)
            raise

    def _trip(self, exc: Exception) -> None:
        self._health = Health(False, self._health.models if self._health else (), f"last call failed: {exc}")
        self._health_until = time.monotonic() + HEALTH_TTL_TRIPPED
        log.warning("model server marked unavailable for %.0f s after: %s", HEALTH_TTL_TRIPPED, exc)

    async def _ask(
        self,
        messages: list[dict[str, str]],
        mode: JsonMode,
        *,
        schema: dict[str, Any],
        name: str,
        max_tokens: int | None,
        budget: Budget,
    ) -> str:
        """One structured request in `mode` -> the raw reply text."""
        if mode != "ollama_format":
            extra = structured_fields(mode, schema, name)
            _result, raw = await self._complete(messages, extra, max_tokens, None, budget)
            return raw

        async def run() -> Any:
            model = await self._t.model_name(budget)
            tokens = max_tokens or self._settings.max_tokens
            body = ollama_body(model, messages, schema, self._settings.temperature, tokens)
            payload = await self._t.post_root(budget, "/api/chat", body)
            if isinstance(payload, dict) and payload.get("error") and "message" not in payload:
                # LM Studio answers an endpoint it lacks with 200 {"error": "Unexpected endpoint or method. ..."}
                raise Rejected(f"model server at {self._t.shown}: {payload['error']}", 200, str(payload["error"]))
            return from_ollama(payload)

        try:
            return self._result(await self._t.guard(budget, run()))[1]
        except LLMTimeout as exc:
            self._trip(exc)
            raise

    async def _worth_trying(self, mode: JsonMode, first: bool) -> bool:
        """guided_json is a field other servers ignore without a word, so it is stepped down to only on a server
        whose /v1/models says vLLM (asked once, and only when it comes to that)."""
        if mode != "guided_json" or first:
            return True
        return "vllm" in await self._t.owners(PROBE_SECONDS)

    async def _first_accepted(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, max_tokens: int | None, budget: Budget
    ) -> tuple[str, JsonMode]:
        """Ask in the remembered JSON mode; when the server refuses it (400, 422, a missing endpoint, or a 5xx that
        is a validation error about response_format), step down at once, without retries, and remember the mode
        that was accepted for this server, so later calls (and later clients) skip the refused ones."""
        modes = modes_from(self._json_mode) if self._settings.json_mode == "auto" else (self._json_mode,)
        for i, mode in enumerate(modes):
            if not await self._t.guard(budget, self._worth_trying(mode, first=i == 0)):
                continue
            try:
                raw = await self._ask(messages, mode, schema=schema, name=name, max_tokens=max_tokens, budget=budget)
            except Rejected as exc:
                if i + 1 == len(modes):
                    raise
                log.warning("%s refused JSON mode %s (%s); stepping down", self._t.shown, MODE_LABELS[mode], exc.detail)
                continue
            if mode != self._json_mode or _ACCEPTED_MODES.get(self._server_key) != mode:
                log.info("model server at %s: structured replies use %s", self._t.shown, MODE_LABELS[mode])
                self._json_mode = mode
                if self._settings.json_mode == "auto":
                    _ACCEPTED_MODES[self._server_key] = mode
            return raw, mode
        raise AssertionError("unreachable: the last mode either returns or raises")

    def _result(self, payload: Any) -> tuple[ChatResult, str]:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        message = choice.get("message") if choice else None
        if not isinstance(message, dict):
            raise LLMBadResponse(f"model server at {self._t.shown} answered without a message: {str(payload)[:120]!r}")
        content = message.get("content")
        raw = content if isinstance(content, str) else ""
        usage = usage_of(payload)
        self._record(usage)
        reason = choice.get("finish_reason") if choice else None
        model = str(payload.get("model") or self._t.model)
        return ChatResult(strip_think(raw), usage, model, reason if isinstance(reason, str) else None), raw

    def _record(self, usage: Usage) -> None:
        total = self.usage_totals
        self.usage_totals = Usage(
            total.prompt_tokens + usage.prompt_tokens,
            total.completion_tokens + usage.completion_tokens,
            total.cached_tokens + usage.cached_tokens,
        )
        self.calls += 1

    async def _probe(self) -> Health:
        models, problem = await self._t.list_models(min(self._settings.deadline, PROBE_SECONDS))
        if problem is None and not models and not self._settings.model:
            problem = f"model server at {self._t.shown} lists no models; set llm.model"
        if problem is not None:
            return Health(False, (), problem)
        listed = ", ".join(models) or "no models listed"
        return Health(True, models, f"model server at {self._t.shown} is up ({listed})")


async def _next_event(t: Transport, events: AsyncGenerator[dict[str, Any]], received: int) -> dict[str, Any] | None:
    try:
        return await anext(events, None)
    except httpx.HTTPError as exc:
        raise t.mid_stream_error(exc, received) from exc


__all__ = ["ChatResult", "Health", "LLMClient", "forget_json_modes"]
