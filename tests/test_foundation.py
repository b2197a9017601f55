"""Settings contract, CLI usage errors, `doctor` with and without a model server, and the core's import isolation."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.errors import ConfigError
from bot.settings import load_settings
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture, unused_base_url  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_load_from_the_project_config():
    s = load_settings()
    assert s.llm.base_url.endswith("/v1")
    assert s.discord.mode == "shadow" and s.reddit.mode == "queue"
    assert Path(s.config_path).name == "settings.toml"


def test_environment_overrides_toml_with_lists_as_json_or_commas(monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("COUNTERPOINT_DISCORD__WATCH_CHANNELS", "123, 456")
    monkeypatch.setenv("COUNTERPOINT_REDDIT__SUBREDDITS", '["LocalLLaMA","singularity"]')
    monkeypatch.setenv("COUNTERPOINT_DISCORD__MODE", "reply")
    s = load_settings()
    assert s.llm.base_url == "http://127.0.0.1:11434/v1"
    assert s.discord.watch_channels == ["123", "456"]
    assert s.reddit.subreddits == ["LocalLLaMA", "singularity"]
    assert s.discord.mode == "reply"


def test_secrets_use_conventional_names_and_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-dotenv\nREDDIT_CLIENT_ID=abc\nREDDIT_CLIENT_SECRET=xyz\n")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "from-env")
    s = load_settings()
    assert s.discord_token is not None and s.discord_token.get_secret_value() == "from-dotenv"
    assert s.reddit_client_secret is not None and s.reddit_client_secret.get_secret_value() == "from-env"
    assert s.has_discord and s.has_reddit
    assert "from-dotenv" not in repr(s) and "from-env" not in repr(s)


def test_user_agent_follows_reddits_form(monkeypatch):
    monkeypatch.setenv("REDDIT_USERNAME", "cp_bot")
    assert load_settings().user_agent().startswith("python:counterpoint-bot:v")
    assert load_settings().user_agent().endswith("(by /u/cp_bot)")


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[llm]\nread_timeout = 'soon'\n", "llm.read_timeout"),
        ("[discord]\nmode = 'loud'\n", "discord.mode"),
        ("[llm]\nbase_ur = 'x'\n", "llm.base_ur"),
        ("[llm\n", "is not valid TOML"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, toml, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert needle in str(err.value) and str(cfg) in str(err.value)


def test_bad_config_exits_2_with_one_sentence(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[storage]\nretention_days = -3\n")
    assert main(["doctor", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "storage.retention_days" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_config_file_exits_2(capsys):
    assert main(["doctor", "--config", "nope.toml"]) == 2
    assert "nope.toml does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["frobnicate"], ["check"], ["eval"], ["doctor", "--bogus"], []])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


async def _doctor(env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor",
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_doctor_without_model_server_warns_and_hides_secrets(tmp_path):
    code, out, err = await _doctor(
        {
            "COUNTERPOINT_LLM__BASE_URL": unused_base_url(),
            "COUNTERPOINT_STORAGE__PATH": str(tmp_path / "db.sqlite3"),
            "DISCORD_TOKEN": "super-secret-token",
        }
    )
    assert code == 0  # the model is optional: the offline engines answer
    assert "[warn] model endpoint: connection refused" in out
    assert "[ok]   storage" in out and "DISCORD_TOKEN set" in out
    assert "super-secret-token" not in out + err and "Traceback" not in err


async def test_doctor_with_fake_model_server_passes_model_checks(fake_llm: FakeLLM, tmp_path):
    fake_llm.responder = lambda body: {"ok": True}
    code, out, _ = await _doctor(
        {"COUNTERPOINT_LLM__BASE_URL": fake_llm.base_url, "COUNTERPOINT_STORAGE__PATH": str(tmp_path / "d.db")}
    )
    assert "[ok]   model endpoint" in out and "fake-model" in out
    assert "[ok]   JSON mode" in out
    assert code == 0, out


def test_core_modules_import_neither_discord_nor_praw():
    core = [
        "bot.settings", "bot.store", "bot.llm.client", "bot.models", "bot.framing.detector", "bot.counterpoint.library",
        "bot.counterpoint.composer", "bot.summary.summarizer", "bot.pipeline",
    ]  # fmt: skip
    present = [
        m for m in core if (ROOT / (m.replace(".", "/") + ".py")).exists() or (ROOT / m.replace(".", "/")).is_dir()
    ]
    code = "import importlib, sys\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in present)
    code += "bad = [m for m in sys.modules if m.split('.')[0] in ('discord', 'praw', 'prawcore')]\nprint(bad)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert len(present) >= 4


async def test_doctor_never_shows_a_database_password(tmp_path):
    code, out, err = await _doctor(
        {
            "COUNTERPOINT_LLM__BASE_URL": unused_base_url(),
            "COUNTERPOINT_STORAGE__PATH": "postgresql://bot:hunter2secret@127.0.0.1:1/counterpoint",
        }
    )
    assert code == 1 and "[FAIL] storage" in out
    assert "hunter2secret" not in out + err and "Traceback" not in err
