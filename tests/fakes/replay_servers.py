"""Replay fakes of the model servers that cannot run here (Ollama, vLLM, LM Studio), plus llama-cpp-python's
refusal as measured against the real server, for fast tests of JSON-mode negotiation.

Each fake answers with the response and error shapes its server really sends; the source of every shape is the
URL written beside it. Only what the negotiation meets is replayed: /v1/models, /v1/chat/completions (non-streamed),
/tokenize, and Ollama's native /api/chat. A constrained reply is `answer` as JSON; a reply the server did not
constrain is `prose` (a small model ignoring the schema in the prompt), so a test can tell the two apart.

    async with ReplayServer("lmstudio") as server:   # kinds: see KINDS
        server.base_url, server.requests  # [(path, body), ...] in order
"""

from __future__ import annotations

import json
import time
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.fake_llm import serve_local

KINDS = ("ollama", "ollama-0.4", "vllm", "vllm-0.5.4", "lmstudio", "llama-cpp-python")
PROSE = "The post frames AI as a race between the US and China."


class ReplayServer:
    def __init__(self, kind: str, answer: dict[str, Any] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}; one of {KINDS}")
        self.kind = kind
        self.answer = answer if answer is not None else {"ok": True}
        self.prose = PROSE
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.base_url = ""
        self.root_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ReplayServer:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_route("*", "/{tail:.*}", self._other)  # /tokenize, /api/chat, anything else
        self._runner, self.root_url = await serve_local(app)
        self.base_url = f"{self.root_url}/v1"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def paths(self) -> list[str]:
        return [path for path, _body in self.requests]

    # ---- /v1/models ----------------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        created = 1733500000
        if self.kind.startswith("ollama"):
            # https://github.com/ollama/ollama/blob/main/docs/openai.md (GET /v1/models; owned_by is the namespace)
            data = [{"id": "qwen3:4b", "object": "model", "created": created, "owned_by": "library"}]
        elif self.kind.startswith("vllm"):
            # https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html (ModelCard: owned_by "vllm")
            data = [
                {
                    "id": "Qwen/Qwen3-4B",
                    "object": "model",
                    "created": created,
                    "owned_by": "vllm",
                    "root": "Qwen/Qwen3-4B",
                    "parent": None,
                    "max_model_len": 32768,
                }
            ]
        elif self.kind == "lmstudio":
            # https://lmstudio.ai/docs/app/api/endpoints/openai (GET /v1/models)
            data = [{"id": "qwen3-4b", "object": "model", "owned_by": "organization_owner"}]
        else:
            # measured: llama-cpp-python 0.3.36, `python -m llama_cpp.server --model <gguf>`
            gguf = "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
            data = [{"id": gguf, "object": "model", "owned_by": "me", "permissions": []}]
        return web.json_response({"object": "list", "data": data})

    # ---- /v1/chat/completions ------------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("/v1/chat/completions", body))
        fmt = body.get("response_format") or {}
        kind = fmt.get("type")
        refusal = self._refusal(fmt, body)
        if refusal is not None:
            return refusal
        constrained = (
            (kind == "json_schema" and self._honours_json_schema())
            or kind == "json_object"
            or ("guided_json" in body and self.kind == "vllm-0.5.4")
        )
        content = json.dumps(self.answer) if constrained else self.prose
        return web.json_response(self._completion(body, content))

    def _honours_json_schema(self) -> bool:
        # Ollama before 0.5 read only response_format "json_object" and silently dropped "json_schema":
        # https://github.com/ollama/ollama/issues/7991 ("Structured outputs is a feature of 0.5.0 or newer")
        return self.kind != "ollama-0.4"

    def _refusal(self, fmt: dict[str, Any], body: dict[str, Any]) -> web.Response | None:
        kind = fmt.get("type")
        if self.kind == "lmstudio" and kind not in (None, "json_schema", "text"):
            # https://github.com/LoadShine/tada/issues/16: 400 {"error":"'response_format.type' must be 'json_schema'
            # or 'text'"} (older builds: "... must be 'json_schema'",
            # https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/189)
            return web.json_response({"error": "'response_format.type' must be 'json_schema' or 'text'"}, status=400)
        if self.kind == "llama-cpp-python" and kind not in (None, "text", "json_object"):
            # measured here against llama-cpp-python 0.3.36's server (pydantic's literal_error, caught by its
            # RouteErrorHandler and answered as 500; the file path shortened); reported in issue 19 of this project
            return web.json_response(
                {
                    "error": {
                        "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
                        "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
                        "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File "
                        '"llama_cpp/server/app.py", line 376, in create_chat_completion\n    POST /v1/chat/completions',
                        "type": "internal_server_error",
                        "param": None,
                        "code": None,
                    }
                },
                status=500,
            )
        if self.kind == "vllm-0.5.4":
            # before https://github.com/vllm-project/vllm/pull/7654 (v0.5.5) ResponseFormat.type was
            # Literal["text", "json_object"] and OpenAIBaseModel forbade extra fields; the RequestValidationError
            # handler in vllm/entrypoints/openai/api_server.py answers 400 with ErrorResponse(message=str(exc),
            # type="BadRequestError", code=400), i.e. {"object": "error", "message", "type", "param", "code"}
            if kind not in (None, "text", "json_object"):
                problem = (
                    "{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                    "'msg': \"Input should be 'text' or 'json_object'\", 'input': '" + str(kind) + "'}"
                )
            elif "schema" in fmt:
                problem = (
                    "{'type': 'extra_forbidden', 'loc': ('body', 'response_format', 'schema'), "
                    "'msg': 'Extra inputs are not permitted'}"
                )
            else:
                return None
            message = f"1 validation error for ChatCompletionRequest: [{problem}]"
            error = {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}
            return web.json_response(error, status=400)
        # vLLM >= 0.6 ignores unknown fields such as guided_json (removed in v0.12) with a warning:
        # https://github.com/vllm-project/vllm/issues/35438 ("The following fields were present in the request but
        # ignored"); https://github.com/tteon/seocho/pull/557 (guided_json absent from vllm 0.27.1)
        return None

    def _completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        model = body.get("model") or "model"
        usage = {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
        payload: dict[str, Any] = {
            "id": "chatcmpl-361",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": usage,
        }
        if self.kind.startswith("ollama"):
            # https://github.com/ollama/ollama/blob/main/docs/openai.md (system_fingerprint "fp_ollama")
            payload["system_fingerprint"] = "fp_ollama"
        return payload

    # ---- everything else: /tokenize, Ollama's /api/chat --------------------------------------------------------

    async def _other(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.requests.append((request.path, body))
        if self.kind == "lmstudio":
            # LM Studio answers unknown endpoints with 200 and an error body:
            # https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/618
            # {"error":"Unexpected endpoint or method. (POST /chat/completions)"}
            return web.json_response({"error": f"Unexpected endpoint or method. ({request.method} {request.path})"})
        if request.path == "/api/chat" and self.kind.startswith("ollama"):
            return self._ollama_chat(body)
        if request.path == "/tokenize" and self.kind.startswith("vllm"):
            # https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#tokenizer-api
            prompt = str(body.get("prompt", ""))
            return web.json_response({"count": len(prompt.split()), "max_model_len": 32768, "tokens": []})
        if self.kind.startswith("ollama"):
            # Gin's default for an unknown route: 404, text/plain "404 page not found"
            return web.Response(status=404, text="404 page not found")
        # FastAPI (llama-cpp-python, vLLM): {"detail": "Not Found"}
        return web.json_response({"detail": "Not Found"}, status=404)

    def _ollama_chat(self, body: dict[str, Any]) -> web.Response:
        fmt = body.get("format")
        if self.kind == "ollama-0.4" and isinstance(fmt, dict):
            # https://github.com/ollama/ollama-python/issues/428 (ollama 0.4.0) and ollama/ollama#7991 (0.3.13):
            # 400 {"error":"json: cannot unmarshal object into Go struct field ChatRequest.format of type string"}
            error = "json: cannot unmarshal object into Go struct field ChatRequest.format of type string"
            return web.json_response({"error": error}, status=400)
        content = json.dumps(self.answer) if fmt else self.prose
        # https://ollama.com/blog/structured-outputs and https://github.com/ollama/ollama/blob/main/docs/api.md
        # (non-streamed /api/chat reply)
        return web.json_response(
            {
                "model": body.get("model"),
                "created_at": "2024-12-09T16:45:04.380923Z",
                "message": {"role": "assistant", "content": content},
                "done_reason": "stop",
                "done": True,
                "total_duration": 2093519042,
                "prompt_eval_count": 42,
                "eval_count": 9,
            }
        )
