"""HTTP details of the model client: mapping failures to typed errors, the retry policy, SSE and usage parsing.

Kept apart from bot/llm.py so the client reads as behaviour. Nothing here ever sees the API key: messages are
built from the displayed base URL (credentials removed), the status and the server's own error text, which the
client scrubs once more before raising.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.errors import LLMBadResponse, LLMError, LLMTimeout, LLMUnavailable
from bot.models import Usage
from bot.text import jsonsafe

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

log = logging.getLogger(__name__)


class Transient(LLMUnavailable):
    """Worth another attempt: connection refused or dropped, 429, 5xx (llama.cpp answers 503 while loading)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(LLMBadResponse):
    """A 4xx that is about the request itself (400, 422, ...): repeating it unchanged cannot help."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def display_url(url: str) -> str:
    """The base URL as it may appear in messages and logs: any user:password@ part removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def body_json(response: httpx.Response) -> Any:
    """`response.json()` with a depth limit: a server that answers `[[[[...` thousands deep gets a ValueError
    (jsonsafe.JsonTooDeep), not the RecursionError Python's parser raises, which no handler expects."""
    return jsonsafe.loads(response.content)


def server_message(response: httpx.Response) -> str:
    """The error text a server put in its body: OpenAI/llama.cpp `{"error": {"message"}}`, Ollama/LM Studio
    `{"error": "..."}`, vLLM `{"message": ...}` or FastAPI `{"detail": ...}`; else the start of the raw body."""
    try:
        body = body_json(response)
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message")
        found = error or body.get("message") or body.get("detail")
        if found:
            return str(found)[:300]
    return json.dumps(body)[:200]


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_FORMAT_WORDS = ("response_format", "json_schema", "guided_json")
_VALIDATION_WORDS = ("validation", "input should be", "literal_error", "must be", "not supported", "extra inputs")


def names_format_validation(detail: str) -> bool:
    """A validation error about the structured-output request. llama-cpp-python answers `response_format:
    {"type": "json_schema"}` with HTTP 500 and pydantic's "Input should be 'text' or 'json_object'" at
    ('body', 'response_format', 'type'); repeating that request can never succeed, so it is no server fault."""
    lowered = detail.lower()
    return any(w in lowered for w in _FORMAT_WORDS) and any(w in lowered for w in _VALIDATION_WORDS)


def status_error(response: httpx.Response, shown_url: str) -> LLMError:
    status, detail = response.status_code, server_message(response)
    said = f": {detail}" if detail else ""
    if status >= 500 and names_format_validation(detail):
        return Rejected(f"model server at {shown_url} refused the request format ({status}){said}", status, detail)
    if status == 429 or status >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        state = "is still loading the model" if "loading" in detail.lower() else f"answered {status}"
        hint = f" (asks to retry after {retry_after:g} s)" if retry_after is not None else ""
        return Transient(f"model server at {shown_url} {state}{hint}{said}", retry_after)
    if status in (401, 403):
        return LLMUnavailable(f"model server at {shown_url} refused our credentials ({status}); check llm.api_key")
    if status == 404:
        return LLMUnavailable(
            f"model server at {shown_url} answered 404{said}; check llm.base_url (it ends with /v1) and llm.model"
        )
    return Rejected(f"model server at {shown_url} rejected the request ({status}){said}", status, detail)


def transport_error(exc: httpx.HTTPError, shown_url: str, timeout: httpx.Timeout) -> LLMError:
    if isinstance(exc, httpx.ReadTimeout):
        return LLMTimeout(f"model server at {shown_url} sent nothing for {timeout.read:g} s")
    if isinstance(exc, httpx.PoolTimeout):
        return LLMTimeout(f"no free connection to {shown_url} within {timeout.pool:g} s")
    if isinstance(exc, httpx.ConnectTimeout):
        return Transient(f"cannot connect to {shown_url}: no answer within {timeout.connect:g} s")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        refused = "refused" in text.lower() or "all connection attempts failed" in text.lower()
        return Transient(f"connection refused at {shown_url}" if refused else f"cannot connect to {shown_url}: {text}")
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        # includes RemoteProtocolError: llama.cpp may close a kept-alive connection just as we reuse it
        return Transient(f"connection to {shown_url} dropped ({type(exc).__name__}: {exc})")
    return LLMUnavailable(f"cannot use {shown_url}: {type(exc).__name__}: {exc}")


def retry_policy(attempts: int, when: float, initial: float, maximum: float) -> AsyncRetrying:
    """Exponential backoff with jitter on Transient errors, never past the absolute deadline `when`
    (event-loop time). A Retry-After longer than the time left ends the retries at once."""
    # imported here: a command whose model server is down never retries, and tenacity costs ~10 ms to import
    from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential, wait_random

    # (not wait_exponential_jitter: its arguments changed between tenacity 8 and 9)
    backoff = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)

    def remaining() -> float:
        return when - asyncio.get_running_loop().time()

    def asked(state: RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        return getattr(exc, "retry_after", None)

    def wait(state: RetryCallState) -> float:
        delay = asked(state)
        return max(0.0, min(backoff(state) if delay is None else delay, remaining()))

    def stop(state: RetryCallState) -> bool:
        delay = asked(state)
        return state.attempt_number >= attempts or (delay is not None and delay > remaining())

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        nap = state.next_action.sleep if state.next_action else 0.0
        log.warning("LLM request failed (%s); attempt %d, retrying in %.2f s", exc, state.attempt_number, nap)

    return AsyncRetrying(
        stop=stop, wait=wait, retry=retry_if_exception_type(Transient), reraise=True, before_sleep=before_sleep
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_of(payload: dict[str, Any]) -> Usage:
    """OpenAI usage; cached prompt tokens from usage.prompt_tokens_details.cached_tokens (OpenAI, recent
    llama.cpp, vLLM with --enable-prompt-tokens-details) or llama.cpp's timings.cache_n, whichever exists."""
    found = payload.get("usage")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    timings = payload.get("timings")
    if cached is None and isinstance(timings, dict):
        cached = timings.get("cache_n")
    return Usage(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")), _count(cached))


def model_ids(payload: Any) -> tuple[str, ...]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return ()
    return tuple(str(m["id"]) for m in data if isinstance(m, dict) and m.get("id"))


def model_owners(payload: Any) -> tuple[str, ...]:
    """The `owned_by` of each listed model: "vllm" (vLLM), "llamacpp" (llama.cpp), "me" (llama-cpp-python), ..."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return ()
    return tuple(str(m["owned_by"]) for m in data if isinstance(m, dict) and m.get("owned_by"))


async def sse_events(lines: AsyncIterator[str], shown_url: str) -> AsyncGenerator[dict[str, Any]]:
    """JSON payloads of `data:` lines until `data: [DONE]`; comments, `event:` and blank lines are skipped."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = jsonsafe.loads(data)
        except json.JSONDecodeError:
            raise LLMBadResponse(
                f"model server at {shown_url} streamed a line that is not JSON: {data[:80]!r}"
            ) from None
        if isinstance(event, dict) and event.get("error"):
            err = event["error"]
            text = err.get("message") if isinstance(err, dict) else err
            raise LLMUnavailable(f"model server at {shown_url} failed mid-stream: {str(text)[:200]}")
        if isinstance(event, dict):
            yield event


def delta_text(event: dict[str, Any]) -> str:
    """Visible content of one stream chunk; `reasoning_content` (llama.cpp, vLLM) is deliberately ignored."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""
