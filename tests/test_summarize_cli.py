"""`counterpoint summarize` as a real process: exports, stdin, --json, malformed input, model and no model."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.fakes.fake_llm import fake_llm_fixture, unused_base_url  # noqa: F401  (provides the fake_llm fixture)
from tests.fakes.summary_kit import kind_of, summary_responder, thread

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def _env(base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTERPOINT_", "REDDIT_", "DISCORD_"))}
    env |= {"PYTHONPATH": str(ROOT), "COUNTERPOINT_LLM__BASE_URL": base_url, "COUNTERPOINT_LLM__MAX_RETRIES": "0"}
    return env | extra


async def _cli(*args: str, env: dict[str, str], stdin: bytes | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "summarize",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate(stdin or b"")
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _export(tmp_path: Path, n: int) -> Path:
    messages = [
        {"id": p.post_id, "author": {"id": p.author_id, "username": p.author_name}, "content": p.text,
         "timestamp": p.created_at.isoformat(), "channel_id": "c1"}
        for p in thread(n, words=24)
    ]  # fmt: skip
    path = tmp_path / "long.json"
    path.write_text(json.dumps(messages))
    return path


async def test_without_a_model_prints_an_extractive_summary():
    rc, out, err = await _cli(str(DATA / "summary_reddit.json"), env=_env(unused_base_url()))
    assert rc == 0, err
    assert out.startswith("Which open model is best") and "extractive, no model" in out
    assert "writing an extractive summary (no model)" in err and "Traceback" not in err


async def test_json_output_is_one_document_and_stdin_works():
    raw = (DATA / "summary_discord_api.json").read_bytes()
    rc, out, err = await _cli("--json", "-", env=_env(unused_base_url()), stdin=raw)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["thread"]["platform"] == "discord" and doc["summary"]["engine"] == "extractive"
    assert doc["summary"]["message_count"] == 5 and doc["model_calls"] == 0
    ids = {i for p in doc["summary"]["points"] for i in p["source_ids"]}
    assert ids and ids <= {"1001", "1002", "1003", "1004", "1006"}


async def test_malformed_input_exits_2_with_one_sentence(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"messages": [{"id": "1", "content": "hi"}]}')
    rc, out, err = await _cli(str(bad), env=_env(unused_base_url()))
    assert rc == 2 and out == ""
    assert err.strip() == f"counterpoint: {bad}: message 1 has no timestamp."
    rc, _, err = await _cli(str(tmp_path / "missing.json"), env=_env(unused_base_url()))
    assert rc == 2 and err.strip().endswith("missing.json does not exist.")


async def test_reddit_url_without_credentials_exits_2():
    rc, _, err = await _cli("https://www.reddit.com/r/LocalLLaMA/comments/abc123/x/", env=_env(unused_base_url()))
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "REDDIT_CLIENT_ID" in err


async def test_with_the_model_long_threads_show_progress(fake_llm, tmp_path):
    fake_llm.responder = summary_responder
    env = _env(fake_llm.base_url, COUNTERPOINT_SUMMARIZE__CHUNK_TOKENS="600", COUNTERPOINT_LLM__MODEL="fake-model")
    rc, out, err = await _cli("--json", str(_export(tmp_path, 300)), env=env)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["summary"]["engine"] == "llm" and doc["summary"]["message_count"] == 300
    assert doc["model_calls"] == len(fake_llm.requests) > 2
    assert "with the model at" in err and "reading parts:" in err and "merging:" in err
    assert {kind_of(b) for b in fake_llm.requests} == {"map", "reduce"}
