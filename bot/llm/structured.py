"""Model output as data: `<think>` stripping (whole or streamed), tolerant JSON extraction, schema helpers.

Pure functions, no I/O; bot/llm.py uses them, and so may anyone who holds raw model text.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from bot.text import jsonsafe
from bot.text.clean import strip_think

JsonMode = Literal["json_schema", "guided_json", "json_object", "ollama_format", "prompt"]
# most to least constrained; `auto` starts at the first and falls back along this order. Each is one server
# family's dialect for "answer in this schema" (README, model-server table):
# - json_schema: OpenAI's `response_format: {"type": "json_schema", "json_schema": {"schema": ...}}` (llama.cpp,
#   vLLM >= 0.5.5, Ollama >= 0.5 on /v1, LM Studio)
# - guided_json: vLLM's older extra body field `guided_json: <schema>`; tried only on a server whose /v1/models
#   says `owned_by: vllm` (others would ignore the field and look as if they had accepted it)
# - json_object: `response_format: {"type": "json_object", "schema": ...}`: llama-cpp-python's schema dialect (and
#   llama.cpp's); a server that knows no `schema` there still gives plain JSON mode
# - ollama_format: Ollama's native `POST /api/chat` with `format: <schema>` (next to /v1, at the server root)
# - prompt: no response_format; the schema is in the system prompt, and one repair turn follows a bad reply
JSON_MODES: tuple[JsonMode, ...] = ("json_schema", "guided_json", "json_object", "ollama_format", "prompt")
MODE_LABELS: dict[JsonMode, str] = {
    "json_schema": "json_schema",
    "guided_json": "guided_json (vLLM extra field)",
    "json_object": "json_object with schema",
    "ollama_format": "Ollama format (native /api/chat)",
    "prompt": "prompt only, one repair",
}

OPEN, CLOSE = "<think>", "</think>"
_FENCE = re.compile(r"```[a-zA-Z]*")
_MAX_JSON_STARTS = 50  # bounds the work on long garbage


def _partial_tag(buf: str, tags: tuple[str, ...]) -> int:
    """Length of the longest suffix of `buf` that could still grow into one of `tags`."""
    for size in range(min(len(buf), max(map(len, tags)) - 1), 0, -1):
        tail = buf[-size:].lower()
        if any(tag.startswith(tail) for tag in tags):
            return size
    return 0


class ThinkFilter:
    """Streaming `<think>` stripper: feed deltas, get the visible text; tags may be split across deltas."""

    def __init__(self) -> None:
        self._buf = ""
        self._inside = False
        self._started = False  # leading whitespace (left after a think block) is dropped
        self._last = " "  # the last character already emitted

    def feed(self, delta: str) -> str:
        self._buf += delta
        out: list[str] = []
        while True:
            lowered = self._buf.lower()
            if self._inside:
                end = lowered.find(CLOSE)
                if end < 0:
                    keep = _partial_tag(self._buf, (CLOSE,))
                    self._buf = self._buf[len(self._buf) - keep :]
                    break
                self._buf, self._inside = self._buf[end + len(CLOSE) :], False
                if not ("".join(out) or self._last)[-1:].isspace():
                    out.append(" ")  # as strip_think does: a block between two words leaves a space
                continue
            start, stray = lowered.find(OPEN), lowered.find(CLOSE)
            if start >= 0 and (stray < 0 or start < stray):
                out.append(self._buf[:start])
                self._buf, self._inside = self._buf[start + len(OPEN) :], True
                continue
            if stray >= 0:  # reasoning already sent cannot be recalled; at least drop the tag
                out.append(self._buf[:stray])
                self._buf = self._buf[stray + len(CLOSE) :]
                continue
            keep = _partial_tag(self._buf, (OPEN, CLOSE))
            out.append(self._buf[: len(self._buf) - keep])
            self._buf = self._buf[len(self._buf) - keep :]
            break
        return self._visible("".join(out))

    def flush(self) -> str:
        """End of stream: an unclosed block is dropped, a dangling partial tag was just text."""
        rest = "" if self._inside else self._buf
        self._buf, self._inside = "", False
        return self._visible(rest)

    def _visible(self, text: str) -> str:
        if not self._started:
            text = text.lstrip()
            self._started = bool(text)
        self._last = text[-1:] or self._last
        return text


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in a model reply, tolerating `<think>`, ``` fences and chatter around it. A value nested
    deeper than jsonsafe allows raises JsonTooDeep at once: the reply is unreadable, not a place to search on."""
    text = _FENCE.sub("", strip_think(text))
    start = text.find("{")
    for _ in range(_MAX_JSON_STARTS):
        if start < 0:
            break
        try:
            value, _end = jsonsafe.raw_decode(text, start)
        except jsonsafe.JsonTooDeep:
            raise
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    preview = text[:80].replace("\n", " ")
    raise ValueError(f"no JSON object found in the reply (it starts {preview!r})")


def modes_from(mode: JsonMode) -> tuple[JsonMode, ...]:
    return JSON_MODES[JSON_MODES.index(mode) :]


def parse_reply(raw: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(value, "") when `raw` holds a JSON object that follows `schema`, else (None, what is wrong)."""
    try:
        value = extract_json(raw)
    except jsonsafe.JsonTooDeep:
        raise  # the caller leaves the post unjudged (one log line), it does not retry or repair
    except ValueError as exc:
        return None, str(exc)
    problem = schema_error(value, schema)
    return (value, "") if problem is None else (None, problem)


def schema_error(value: Any, schema: dict[str, Any]) -> str | None:
    """None when `value` follows `schema`, else one readable sentence about the most relevant violation."""
    # imported on the first model reply: jsonschema (with referencing and attrs) is a fifth of a bare start-up,
    # and commands that answer offline never need it
    from jsonschema import validators
    from jsonschema.exceptions import best_match

    validator = validators.validator_for(schema)(schema)
    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"at {where}: {error.message}"


def structured_fields(mode: JsonMode, schema: dict[str, Any], name: str) -> dict[str, Any]:
    """What a /v1/chat/completions body adds to ask for `schema` in `mode` ({} for prompt-only). ollama_format is
    not sent there: see ollama_body()."""
    if mode == "json_schema":
        spec = {"name": name, "schema": schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": without_string_bounds(schema)}}
    if mode == "guided_json":
        return {"guided_json": schema}
    return {}


def without_string_bounds(schema: Any) -> Any:
    """`schema` without minLength/maxLength. llama-cpp-python's schema-to-grammar converter spells a maxLength of
    1500 as 1500 nested optional characters; llama.cpp's grammar parser refuses that ("number of rules ... exceeds
    sane defaults") and the server then dies with SIGSEGV (measured, llama-cpp-python 0.3.36). The bounds stay in
    the prompt and in the validation of every reply."""
    if isinstance(schema, dict):
        return {k: without_string_bounds(v) for k, v in schema.items() if k not in ("minLength", "maxLength")}
    if isinstance(schema, list):
        return [without_string_bounds(v) for v in schema]
    return schema


def ollama_body(
    model: str, messages: list[dict[str, str]], schema: dict[str, Any], temperature: float, max_tokens: int
) -> dict[str, Any]:
    """Ollama's native chat request with a schema in `format` (https://ollama.com/blog/structured-outputs)."""
    return {
        "model": model,
        "messages": messages,
        "stream": False,
        "format": schema,
        "options": {"temperature": temperature, "num_predict": max_tokens},
    }


def from_ollama(payload: Any) -> Any:
    """Ollama's native /api/chat reply in the OpenAI shape the client reads (content, usage, finish_reason)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        return payload
    return {
        "model": payload.get("model"),
        "choices": [{"index": 0, "message": payload["message"], "finish_reason": payload.get("done_reason")}],
        "usage": {
            "prompt_tokens": payload.get("prompt_eval_count") or 0,
            "completion_tokens": payload.get("eval_count") or 0,
        },
    }


def schema_instruction(schema: dict[str, Any]) -> str:
    return (
        "Answer with one JSON object only: no prose, no markdown fences. "
        "It must follow this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    )


def with_system_note(messages: list[dict[str, str]], note: str) -> list[dict[str, str]]:
    """Append `note` to the leading system message (many chat templates accept only one, and only first)."""
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0].get('content', '')}\n\n{note}".strip()}
        return [first, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]


def repair_messages(messages: list[dict[str, str]], bad_reply: str, problem: str) -> list[dict[str, str]]:
    """One more turn: show the model its reply and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": bad_reply[:4000]},
        {
            "role": "user",
            "content": f"That reply cannot be used: {problem}. "
            "Reply again with only the corrected JSON object, following the schema exactly.",
        },
    ]
