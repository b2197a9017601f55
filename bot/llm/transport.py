"""How the model client talks HTTP: deadline, concurrency slots, retries, model resolution, one request.

bot/llm.py decides what to ask; this module decides how to send it. The deadline is enforced with
`asyncio.timeout_at` because httpx's read timeout applies per chunk, never to a whole reply.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies

import httpx

from bot.errors import LLMBadResponse, LLMError, LLMTimeout, LLMUnavailable
from bot.llm.http import (
    Rejected,
    body_json,
    display_url,
    model_ids,
    model_owners,
    retry_policy,
    status_error,
    transport_error,
)
from bot.settings import LLMSettings
from bot.text import jsonsafe

if TYPE_CHECKING:
    from tenacity import AsyncRetrying

log = logging.getLogger(__name__)
T = TypeVar("T")


class Budget(NamedTuple):
    """One call's overall deadline: absolute event-loop time, and its length for messages."""

    when: float
    seconds: float


def _tls_for(base_url: str) -> bool:
    """Certificate checks for an https:// server; none to set up for a plain-http one. Loading the CA bundle costs
    about 40 ms, a tenth of a `counterpoint check`, and a local model server (llama.cpp, Ollama, vLLM on
    127.0.0.1) speaks plain http. The client never follows redirects, so a plain-http base URL never leads to a
    TLS connection that would go unchecked."""
    return not base_url.lower().startswith("http://")


# A completion of a few thousand tokens is tens of kB and a model list a few; a server sending more than this is
# broken (or hostile), and reading on until the deadline would fill the memory at loopback speed.
MAX_BODY_BYTES = 8 * 2**20
MAX_LINE_CHARS = 2**20  # one streamed event (a `data:` line)
_LINE_END = re.compile(r"\r\n|\r|\n")


async def capped(response: httpx.Response, shown: str, limit: int | None = None) -> httpx.Response:
    """`response` with its body read (decoded), at most `limit` bytes, as a plain Response; the stream is closed.
    LLMBadResponse past the limit; httpx errors while reading pass through, as `request` raises them."""
    limit = MAX_BODY_BYTES if limit is None else limit
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise LLMBadResponse(f"model server at {shown} sent more than {limit // 2**10} kB in one answer")
            chunks.append(chunk)
    finally:
        await response.aclose()
    dropped = ("content-encoding", "content-length", "transfer-encoding")  # the body below is already decoded
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=response.request)


async def capped_lines(chunks: AsyncIterator[str], shown: str, limit: int | None = None) -> AsyncIterator[str]:
    """The lines of a streamed body, as `Response.aiter_lines` gives them, but a line longer than `limit` characters
    (a server that never sends a newline) is LLMBadResponse instead of a buffer that grows until the deadline."""
    limit = MAX_LINE_CHARS if limit is None else limit
    pending: list[str] = []
    size = 0
    async for text in chunks:
        parts = _LINE_END.split(text)
        if len(parts) > 1:
            yield "".join([*pending, parts[0]])
            for line in parts[1:-1]:
                yield line
            pending, size = [], 0
        pending.append(parts[-1])
        size += len(parts[-1])
        if size > limit:
            raise LLMBadResponse(f"model server at {shown} streamed a line longer than {limit // 2**10} kB")
    if size:
        yield "".join(pending)


async def refused(base_url: str, seconds: float) -> bool:
    """True when a model server on this machine is plainly down: its base URL names a loopback address, no proxy
    is set in the environment (httpx would go through it), and every address refuses a TCP connection. Anything
    else (a connection, a timeout, another error, a remote host) is False: the real request then runs and says
    what is wrong. The first probe of a `counterpoint check` with no server running costs ~2 ms this way instead
    of ~35 ms of making an HTTP client (httpcore, anyio, h11) that would only be told the same."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if not host or any(k in getproxies() for k in ("http", "https", "all")):
        return False
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            if not infos or not all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos):
                return False
            for family, kind, proto, _name, address in infos:
                with socket.socket(family, kind, proto) as sock:
                    sock.setblocking(False)
                    try:
                        await loop.sock_connect(sock, address)
                    except ConnectionRefusedError:
                        continue
                    return False  # something listens: ask it
    except (OSError, ValueError, TimeoutError):
        return False
    return True


class Transport:
    def __init__(self, settings: LLMSettings, http: httpx.AsyncClient | None, backoff: float, backoff_max: float):
        self.settings = settings
        self.base = settings.base_url.rstrip("/")
        self.root = re.sub(r"/v1$", "", self.base)  # llama.cpp's /tokenize lives outside /v1
        self.shown = display_url(self.base)
        self._key = settings.api_key.get_secret_value() if settings.api_key else ""
        self.headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        # set per request too, so an injected client follows our settings
        self.timeout = httpx.Timeout(
            connect=settings.connect_timeout, read=settings.read_timeout, write=settings.read_timeout, pool=None
        )
        self._owns_http = http is None
        self._http = http  # ours is made on first use: a command whose model server is down never needs it
        self.slots = asyncio.Semaphore(settings.concurrency)
        self._backoff, self._backoff_max = backoff, backoff_max
        self._model = settings.model
        self._model_lock = asyncio.Lock()
        self._owners: tuple[str, ...] | None = None  # `owned_by` of the listed models: who serves them

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=self.settings.concurrency + 4),
                verify=_tls_for(self.base),
            )
        return self._http

    @property
    def model(self) -> str:
        """The model name in use ("" until resolved from /models)."""
        return self._model

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    def budget(self, deadline: float | None) -> Budget:
        seconds = deadline if deadline is not None else self.settings.deadline
        return Budget(asyncio.get_running_loop().time() + seconds, seconds)

    def scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    async def guard(self, budget: Budget, awaitable: Awaitable[T]) -> T:
        """Await under the overall deadline; typed errors out, with the API key scrubbed from their text."""
        try:
            async with asyncio.timeout_at(budget.when):
                return await awaitable
        except TimeoutError:
            raise LLMTimeout(f"no answer from the model server at {self.shown} within {budget.seconds:g} s") from None
        except LLMError as exc:
            exc.args = (self.scrub(str(exc)),)
            raise

    def retrying(self, budget: Budget) -> AsyncRetrying:
        return retry_policy(self.settings.max_retries + 1, budget.when, self._backoff, self._backoff_max)

    async def send_json(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, at_root: bool = False
    ) -> Any:
        """One request, no retry: the decoded JSON body, or a typed error. `at_root`: a path beside /v1 (Ollama's
        /api/chat), where 404 or 405 means this server has no such endpoint: a Rejected, never retried."""
        if not self.base:
            raise LLMUnavailable("no model server configured (llm.base_url is empty)")
        url = f"{self.root if at_root else self.base}{path}"
        try:
            response = await self._fetch(method, url, body)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.shown, self.timeout) from exc
        if at_root and response.status_code in (404, 405):
            raise Rejected(f"model server at {self.shown} has no {path}", response.status_code, f"no {path}")
        if response.status_code >= 400:
            raise status_error(response, self.shown)
        try:
            return body_json(response)
        except jsonsafe.JsonTooDeep as exc:
            raise LLMBadResponse(f"model server at {self.shown} answered with JSON {exc.msg}") from None
        except ValueError:
            preview = response.text[:80].replace("\n", " ")
            raise LLMBadResponse(
                f"model server at {self.shown} answered with something not JSON: {preview!r}"
            ) from None

    async def _fetch(self, method: str, url: str, body: dict[str, Any] | None) -> httpx.Response:
        """One request with our headers and timeouts, its body read up to MAX_BODY_BYTES (see `capped`)."""
        request = self.http.build_request(method, url, json=body, headers=self.headers, timeout=self.timeout)
        return await capped(await self.http.send(request, stream=True), self.shown)

    async def post_chat(self, budget: Budget, body: dict[str, Any]) -> Any:
        """A non-streamed completion: waits for a slot, retries transient failures. Call inside guard()."""
        async with self.slots:
            return await self.retrying(budget)(self.send_json, "POST", "/chat/completions", body)

    async def post_root(self, budget: Budget, path: str, body: dict[str, Any]) -> Any:
        """Like post_chat, for an endpoint at the server root (Ollama's native POST /api/chat)."""
        async with self.slots:
            return await self.retrying(budget)(self.send_json, "POST", path, body, at_root=True)

    async def open_stream(self, budget: Budget, body: dict[str, Any]) -> httpx.Response:
        """Open a streamed completion (retried until the first byte); the caller reads and closes it."""
        return await self.retrying(budget)(self._open_stream_once, body)

    async def _open_stream_once(self, body: dict[str, Any]) -> httpx.Response:
        if not self.base:
            raise LLMUnavailable("no model server configured (llm.base_url is empty)")
        request = self.http.build_request(
            "POST", f"{self.base}/chat/completions", json=body, headers=self.headers, timeout=self.timeout
        )
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.shown, self.timeout) from exc
        if response.status_code >= 400:
            try:
                response = await capped(response, self.shown)
            except httpx.HTTPError as exc:
                raise transport_error(exc, self.shown, self.timeout) from exc
            raise status_error(response, self.shown)
        return response

    def mid_stream_error(self, exc: httpx.HTTPError, received: int) -> LLMError:
        """Once text has been yielded nothing is retried: the caller may already have shown it."""
        if isinstance(exc, httpx.ReadTimeout):
            return LLMTimeout(f"model server at {self.shown} stalled mid-stream (nothing for {self.timeout.read:g} s)")
        return LLMUnavailable(f"connection to {self.shown} dropped mid-stream after {received} characters")

    async def model_name(self, budget: Budget) -> str:
        """llm.model, or else the first model the server lists (looked up once)."""
        if self._model:
            return self._model
        async with self._model_lock:
            if not self._model:
                listed = model_ids(await self.retrying(budget)(self.send_json, "GET", "/models"))
                if not listed:
                    raise LLMUnavailable(f"model server at {self.shown} lists no models; set llm.model")
                self._model = listed[0]
                log.info("using model %s, the first listed by %s", self._model, self.shown)
        return self._model

    async def owners(self, seconds: float) -> tuple[str, ...]:
        """The `owned_by` values /models lists (vLLM says "vllm"), fetched once; () when unknown. Never raises."""
        if self._owners is None:
            await self.list_models(seconds)
        return self._owners or ()

    async def list_models(self, seconds: float) -> tuple[tuple[str, ...], str | None]:
        """One GET /models, no retry: (model ids, None) or ((), why not). Never raises."""
        try:
            async with asyncio.timeout(seconds):
                if self._http is None and self._owns_http and await refused(self.base, self.settings.connect_timeout):
                    return (), f"connection refused at {self.shown}"
                payload = await self.send_json("GET", "/models")
                self._owners = model_owners(payload)
                return model_ids(payload), None
        except TimeoutError:
            return (), f"no answer from {self.shown} within {seconds:g} s"
        except LLMError as exc:
            return (), self.scrub(str(exc))

    async def tokenize(self, text: str, seconds: float) -> tuple[int | None, bool]:
        """(token count, definitive): POST {root}/tokenize. definitive=False means a failure worth retrying later
        (down, timeout, 5xx); (None, True) means this server has no usable /tokenize."""
        if not self.base:
            return None, False
        try:
            async with asyncio.timeout(seconds):
                # llama.cpp reads `content`, vLLM `prompt`
                response = await self._fetch("POST", f"{self.root}/tokenize", {"content": text, "prompt": text})
        except (TimeoutError, httpx.HTTPError, LLMBadResponse) as exc:
            log.debug("tokenize at %s failed: %s", self.shown, type(exc).__name__)
            return None, False
        if response.status_code >= 500:
            return None, False
        return (_token_count(response) if response.status_code == 200 else None), True


def _token_count(response: httpx.Response) -> int | None:
    try:
        payload = body_json(response)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("count"), int):  # vLLM
        return int(payload["count"])
    tokens = payload.get("tokens")  # llama.cpp
    return len(tokens) if isinstance(tokens, list) else None
