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


def _core_modules() -> list[str]:
    """Every module of the bot package except the adapters, whose path names their platform."""
    import pkgutil

    import bot

    names = [m.name for m in pkgutil.walk_packages(bot.__path__, "bot.")]
    return [n for n in names if "discord" not in n and "reddit" not in n and not n.startswith("bot.cogs")]


def _imports(module: str) -> set[str]:
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return found | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_no_core_module_imports_discord_or_praw():
    """Walks the package: only modules whose path names the platform may import its library."""
    core = _core_modules()
    assert len(core) >= 40 and "bot.pipeline" in core and "bot.commands.demo" in core
    bad = {m: i for m in core for i in _imports(m) if i.split(".")[0] in ("discord", "praw", "prawcore")}
    assert bad == {}


def test_the_core_runs_without_discord_or_praw_loaded():
    """The core packages at run time (the CLI commands that start a front door load it on purpose)."""
    core = [m for m in _core_modules() if not m.startswith("bot.commands.") and m != "bot.__main__"]
    code = "import importlib, sys\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in core)
    code += "bad = [m for m in sys.modules if m.split('.')[0] in ('discord', 'praw', 'prawcore')]\nprint(bad)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_import_circle_in_the_core():
    """Each core module imports on its own in a fresh interpreter: a circle would fail on one of them."""
    code = (
        "import importlib, sys\n"
        "for m in sys.argv[1:]:\n"
        "    importlib.import_module(m)\n"
        "    for k in [k for k in sys.modules if k.startswith('bot')]:\n"
        "        del sys.modules[k]\n"
    )
    modules = _core_modules()
    out = subprocess.run(
        [sys.executable, "-c", code, *modules], check=False, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr


async def test_doctor_never_shows_a_database_password(tmp_path):
    code, out, err = await _doctor(
        {
            "COUNTERPOINT_LLM__BASE_URL": unused_base_url(),
            "COUNTERPOINT_STORAGE__PATH": "postgresql://bot:hunter2secret@127.0.0.1:1/counterpoint",
        }
    )
    assert code == 1 and "[FAIL] storage" in out
    assert "hunter2secret" not in out + err and "Traceback" not in err
