"""FakeLLM: an OpenAI-compatible model server (aiohttp) on 127.0.0.1, for tests that drive the real client.

Routes: GET /v1/models, POST /v1/chat/completions (JSON, or SSE when "stream": true), POST /tokenize and
GET /health at the server root, as llama.cpp serves them. Knobs are plain attributes, settable at any time:

    delay               seconds to wait before sending headers
    status              answer chat calls with this HTTP status (body {"error": {...}}); with `fail_times`
    fail_times          only the next N chat calls fail with `status`, then they succeed
    retry_after         Retry-After header sent with a failure
    error_message       the error text of a failure
    garbage             answer 200 with a body that is not JSON
    disconnect_times    close the next N chat connections without answering (llama.cpp dropping a kept-alive
                        connection: the client sees RemoteProtocolError)
    stall_after_chunks  stream N chunks, then go silent (until stop())
    drop_after_chunks   stream N chunks, then close the connection
    reject_json_schema  400 to response_format json_schema (a server without it); reject_json_object likewise
    chunk_chars         size of the stream chunks a text reply is cut into
    usage_style         "openai" (usage.prompt_tokens_details.cached_tokens), "timings" (llama.cpp's
                        timings.cache_n only) or "none"
    tokenize            False: /tokenize answers 404 (like Ollama or LM Studio)
    loading             True: /health and /v1/models answer 503 "Loading model" (llama.cpp while loading)
    models              ids listed by /v1/models

`responder(body)` returns the assistant content: a str, a dict (sent as JSON text), or a list of str (sent as
exactly those stream chunks); it may be async. Cached tokens are simulated: the length (in fake tokens of 4
characters) of the common prefix with the previous prompt.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import pytest_asyncio
from aiohttp import web

from bot.settings import LLMSettings

Reply = str | dict[str, Any] | list[str]
Responder = Callable[[dict[str, Any]], Reply | Awaitable[Reply]]
DEFAULT_TEXT = "This is the fake model's reply."


def _default_responder(body: dict[str, Any]) -> Reply:
    return DEFAULT_TEXT


def _tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


async def serve_local(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on 127.0.0.1 at a free port: (the runner to clean up, "http://127.0.0.1:<port>")."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class FakeLLM:
    def __init__(self, responder: Responder | None = None, models: list[str] | None = None) -> None:
        self.responder: Responder = responder or _default_responder
        self.models = models if models is not None else ["fake-model"]
        self.requests: list[dict[str, Any]] = []  # chat completion bodies, in order
        self.headers: list[dict[str, str]] = []  # their request headers
        self.tokenize_requests: list[dict[str, Any]] = []
        self.model_list_requests = 0
        self.delay = 0.0
        self.status: int | None = None
        self.fail_times: int | None = None
        self.retry_after: str | None = None
        self.error_message = "fake failure"
        self.garbage = False
        self.raw_json: str | None = None  # sent as the body of /models and chat, with a JSON content type
        self.endless: bytes | None = None  # chat answers these bytes again and again until the client hangs up
        self.disconnect_times = 0
        self.stall_after_chunks: int | None = None
        self.drop_after_chunks: int | None = None
        self.reject_json_schema = False
        self.reject_json_object = False
        self.chunk_chars = 6
        self.usage_style = "openai"
        self.tokenize = True
        self.loading = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.base_url = ""
        self.root_url = ""
        self._last_prompt = ""
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeLLM:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/tokenize", self._tokenize)
        app.router.add_get("/health", self._health)
        self._runner, self.root_url = await serve_local(app)
        self.base_url = f"{self.root_url}/v1"
        return self

    async def stop(self) -> None:
        self._closing.set()  # wakes stalled and delayed handlers
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLLM:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- routes -------------------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        self.model_list_requests += 1
        if self.raw_json is not None:
            return web.Response(text=self.raw_json, content_type="application/json")
        if self.loading:
            return _error(503, "Loading model", "unavailable_error")
        data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _health(self, request: web.Request) -> web.Response:
        if self.loading:
            return _error(503, "Loading model", "unavailable_error")
        return web.json_response({"status": "ok"})

    async def _tokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.tokenize_requests.append(body)
        if not self.tokenize:
            return web.Response(status=404, text="Not Found")
        return web.json_response({"tokens": list(range(len(re.findall(r"\w+|[^\w\s]", body["content"]))))})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            if self.delay and await self._sleep(self.delay):
                return _error(503, "shutting down")
            if self.disconnect_times > 0 and request.transport is not None:
                self.disconnect_times -= 1
                request.transport.close()
                return web.Response(status=204)  # never reaches the client
            refusal = self._failure() or self._refusal(body)
            if refusal is not None:
                return refusal
            if self.garbage:
                return web.Response(text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
            if self.raw_json is not None:
                return web.Response(text=self.raw_json, content_type="application/json")
            if self.endless is not None:
                return await self._endless(request, self.endless, bool(body.get("stream")))
            reply = self.responder(body)
            if inspect.isawaitable(reply):
                reply = await reply
            content = "".join(reply) if isinstance(reply, list) else reply
            content = json.dumps(content) if isinstance(content, dict) else str(content)
            usage = self._usage(body, content)
            if body.get("stream"):
                chunks = reply if isinstance(reply, list) else _cut(content, self.chunk_chars)
                return await self._stream(request, body, chunks, usage)
            return web.json_response(self._completion(body, content, usage))
        finally:
            self.in_flight -= 1

    # ---- behaviour ----------------------------------------------------------------------------------------

    def _failure(self) -> web.Response | None:
        if self.status is None:
            return None
        if self.fail_times is not None:
            if self.fail_times <= 0:
                return None
            self.fail_times -= 1
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return _error(self.status, self.error_message, "server_error", headers)

    def _refusal(self, body: dict[str, Any]) -> web.Response | None:
        kind = (body.get("response_format") or {}).get("type")
        if (kind == "json_schema" and self.reject_json_schema) or (kind == "json_object" and self.reject_json_object):
            return _error(400, f"response_format type {kind!r} is not supported", "invalid_request_error")
        return None

    def _usage(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        pairs = zip(prompt, self._last_prompt, strict=False)
        shared = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(prompt), len(self._last_prompt)))
        self._last_prompt = prompt
        cached = shared // 4
        usage: dict[str, Any] = {"prompt_tokens": _tokens(prompt), "completion_tokens": _tokens(content)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if self.usage_style == "openai":
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        return {"usage": usage, "timings": {"cache_n": cached, "prompt_n": usage["prompt_tokens"] - cached}}

    def _completion(self, body: dict[str, Any], content: str, usage: dict[str, Any]) -> dict[str, Any]:
        message = {"role": "assistant", "content": content}
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "model": body.get("model") or self.models[0],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
        if self.usage_style == "openai":
            payload["usage"] = usage["usage"]
        elif self.usage_style == "timings":
            payload |= usage
        return payload

    async def _stream(
        self, request: web.Request, body: dict[str, Any], chunks: list[str], usage: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        model = body.get("model") or self.models[0]
        events = [
            {"model": model, "choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]} for c in chunks
        ]
        events.append({"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage") and self.usage_style != "none":
            events.append({"model": model, "choices": [], **usage})
        for index, event in enumerate(events):
            if not await self._keep_going(request, index):
                return response
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _endless(self, request: web.Request, chunk: bytes, stream: bool) -> web.StreamResponse:
        kind = "text/event-stream" if stream else "application/json"
        response = web.StreamResponse(headers={"Content-Type": kind})
        await response.prepare(request)
        try:
            while not self._closing.is_set():
                await response.write(chunk)
        except (ConnectionError, RuntimeError):  # the client hung up: what it should do
            pass
        return response

    async def _keep_going(self, request: web.Request, index: int) -> bool:
        if self.stall_after_chunks is not None and index >= self.stall_after_chunks:
            await self._sleep(3600)
            return False
        if self.drop_after_chunks is not None and index >= self.drop_after_chunks:
            if request.transport is not None:
                request.transport.close()  # mid-body: the client sees an incomplete chunked read
            return False
        return True

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, cut short by stop(); True when stopping."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True


def _cut(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _error(
    status: int, message: str, kind: str = "server_error", headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": status, "message": message, "type": kind}}
    return web.json_response(body, status=status, headers=headers)


def unused_base_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def llm_settings(base_url: str, **kw: Any) -> LLMSettings:
    """LLMSettings for tests: short timeouts, few retries, the fake's model name."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "fake-model",
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
        "max_retries": 2,
        "concurrency": 4,
        "temperature": 0.0,
        "max_tokens": 256,
    }
    values.update(kw)
    return LLMSettings(**values)


@pytest_asyncio.fixture(name="fake_llm")
async def fake_llm_fixture() -> AsyncIterator[FakeLLM]:
    """A started FakeLLM. Import `fake_llm_fixture` (noqa: F401) and ask for `fake_llm`: importing the fixture
    under the name the tests use makes ruff report every test argument as a redefinition (F811)."""
    async with FakeLLM() as fake:
        yield fake


fake_llm = fake_llm_fixture  # the name the tests use as a fixture
