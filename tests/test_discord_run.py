"""`counterpoint run` as a real process: configured only through environment variables, against FakeDiscord,
FakeLLM and a temp database; it answers a framing post with the model's counterpoint and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bot.__main__ import main
from bot.counterpoint.opening import first_sentence
from tests.fakes.discord_kit import FRAMING, restore_discord_globals_fixture  # noqa: F401 (fixture)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parent.parent
MODEL_TEXT = "Leading in AI is not only a two-country story: open-weight models come from many places [1][2]."


def respond(body: dict[str, Any]) -> Any:
    """The judge says "frames"; the composer gets a reply citing the first two sources it offered."""
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    if fmt.get("name") == "framing":
        return {"label": "frames", "confidence": 0.95, "quote": "win the AI race against China", "reason": "race"}
    if fmt.get("name") == "counterpoint":
        offered = fmt["schema"]["properties"]["source_ids"]["items"]["enum"]
        return {"text": MODEL_TEXT, "source_ids": offered[:2]}
    return "A short summary."


def bot_env(tmp_path: Path, fake: FakeDiscord, llm: FakeLLM) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTERPOINT_", "DISCORD_", "REDDIT_"))}
    env.update({
        "DISCORD_TOKEN": "fake-token",
        "COUNTERPOINT_DISCORD__API_BASE": fake.api_base,
        "COUNTERPOINT_DISCORD__GATEWAY_URL": fake.gateway_url,
        "COUNTERPOINT_DISCORD__WATCH_CHANNELS": str(fake.general),
        "COUNTERPOINT_DISCORD__MOD_CHANNEL": str(fake.mods),
        "COUNTERPOINT_DISCORD__MODE": "reply",
        "COUNTERPOINT_DISCORD__DIGEST_TIME": "23:59",
        "COUNTERPOINT_STORAGE__PATH": str(tmp_path / "run.sqlite3"),
        "COUNTERPOINT_LLM__BASE_URL": llm.base_url,
        "COUNTERPOINT_LLM__MODEL": "fake-model",
        "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    return env


async def test_run_answers_a_framing_post_and_stops_on_sigterm(tmp_path):
    async with FakeDiscord() as fake, FakeLLM(respond) as llm:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=bot_env(tmp_path, fake, llm),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_for(lambda: fake.identifies or proc.returncode is not None, 30, "the bot to connect")
            assert proc.returncode is None, (await proc.stderr.read()).decode()
            post = await fake.user_message(fake.general, FRAMING)
            reply = await fake.wait_request("POST", rf"/channels/{fake.general}/messages$", timeout=20)
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                _out, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert reply.body["message_reference"]["message_id"] == int(post["id"])
    # the model's opening sentence leads; the vetted paragraphs of the sources it chose follow
    assert reply.body["embeds"][0]["description"].startswith(first_sentence(MODEL_TEXT) + " ")
    assert reply.body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert {r["response_format"]["json_schema"]["name"] for r in llm.requests} >= {"framing", "counterpoint"}
    assert fake.identifies[0]["token"] == "fake-token" and fake.identifies[0]["intents"] & (1 << 15)  # content
    assert "fake-token" not in err.decode()  # secrets never logged
    with sqlite3.connect(tmp_path / "run.sqlite3") as db:  # the confirm was committed before the process ended
        status = db.execute("SELECT status, reply_id FROM replies WHERE post_id = ?", (post["id"],)).fetchone()
    assert status[0] == "sent" and status[1]


def test_run_without_credentials_explains_what_to_set(capsys, monkeypatch):
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "DISCORD_TOKEN" in err[1] and "REDDIT_CLIENT_ID" in err[2] and "demo" in err[2]


async def test_run_starts_the_reddit_door_at_its_hook_and_stops_it(tmp_path, monkeypatch, caplog):
    from bot.app import build_resources
    from bot.commands import run as run_command
    from bot.settings import load_settings
    from tests.fakes.discord_kit import unused_port

    monkeypatch.setenv("REDDIT_CLIENT_ID", "id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "secret")
    settings = load_settings(
        None,
        llm={"base_url": f"http://127.0.0.1:{unused_port()}/v1", "connect_timeout": 0.5},
        storage={"path": str(tmp_path / "r.sqlite3")},
        reddit={"subreddits": []},
    )
    assert settings.has_reddit and not settings.has_discord
    caplog.set_level("INFO")
    async with build_resources(settings) as resources:
        stop = asyncio.Event()
        task = asyncio.create_task(run_command._serve(resources, stop))
        await asyncio.sleep(0.3)
        assert not task.done()
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
    assert "running: reddit" in caplog.text and "stopped" in caplog.text
