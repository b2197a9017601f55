"""What a new user meets on a first run (issue 16), through the real CLI in a real process: one sentence and an exit
code for every mistake or outage, never a traceback; nothing written to the working directory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.app import build_resources
from bot.discord_bot import CounterpointBot
from bot.progress import Progress
from bot.settings import Settings, load_settings
from tests.fakes.fake_llm import unused_base_url

ROOT = Path(__file__).resolve().parent.parent
FRAMING = "China will win the AI race"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTERPOINT_", "DISCORD_", "REDDIT_"))}
    env |= {"PYTHONPATH": str(ROOT), "COUNTERPOINT_LLM__BASE_URL": unused_base_url()}
    return env | extra


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("args", [["check", FRAMING], ["summarize", str(ROOT / "tests/data/summary_reddit.json")]])
def test_a_closed_pipe_ends_quietly(tmp_path, args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line: `| head -0`, the worst case of `| head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=90) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_bad_url_from_the_environment_exits_2_naming_key_and_origin(tmp_path):
    done = cli("check", "hi", cwd=tmp_path, COUNTERPOINT_LLM__BASE_URL="not-a-url")
    line = one_sentence(done.stderr)
    assert done.returncode == 2
    assert "llm.base_url (from $COUNTERPOINT_LLM__BASE_URL in the environment): must be a URL" in line


def test_a_bad_value_from_dotenv_is_blamed_on_dotenv(tmp_path):
    (tmp_path / ".env").write_text("COUNTERPOINT_LLM__MAX_RETRIES=lots\n")
    done = cli("check", "hi", cwd=tmp_path)
    line = one_sentence(done.stderr)
    assert done.returncode == 2 and "llm.max_retries (from COUNTERPOINT_LLM__MAX_RETRIES in " in line
    assert ".env):" in line and "settings.toml" not in line


def test_a_typod_section_is_an_error_like_a_typod_key(tmp_path):
    (tmp_path / "s.toml").write_text('[lm]\nbase_url = "http://127.0.0.1:1/v1"\n')
    done = cli("check", "hi", "--config", str(tmp_path / "s.toml"), cwd=tmp_path)
    assert done.returncode == 2 and "[lm]" in one_sentence(done.stderr)
    done = cli("check", "hi", cwd=tmp_path, COUNTERPOINT_LM__BASE_URL="http://127.0.0.1:1/v1")
    assert done.returncode == 2 and "COUNTERPOINT_LM__BASE_URL" in one_sentence(done.stderr)


def test_a_folder_given_as_a_file_gives_one_sentence(tmp_path):
    for args in (["check", "hi", "--config", str(tmp_path)], ["summarize", str(tmp_path)],
                 ["eval", "--dataset", str(tmp_path)]):  # fmt: skip
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2 and "folder" in one_sentence(done.stderr) + "directory", args


def test_an_unwritable_storage_path_exits_2(tmp_path):
    (tmp_path / "a-file").write_text("")
    done = cli("run", cwd=tmp_path, DISCORD_TOKEN="x", COUNTERPOINT_STORAGE__PATH=str(tmp_path / "a-file" / "db"))
    assert done.returncode == 2 and "storage.path" in one_sentence(done.stderr)


def test_run_with_discord_unreachable_says_one_sentence(tmp_path):
    api = unused_base_url().replace("/v1", "/api/v10")
    done = cli("run", cwd=tmp_path, DISCORD_TOKEN="x", COUNTERPOINT_DISCORD__API_BASE=api,
               COUNTERPOINT_STORAGE__PATH=str(tmp_path / "db.sqlite3"))  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "davey" not in done.stderr and "PyNaCl" not in done.stderr
    assert "cannot reach Discord" in done.stderr


def test_doctor_on_a_fresh_install_passes_and_writes_nothing_here(tmp_path):
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[warn] model endpoint" in done.stdout and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # the database went to the per-user data folder


def test_init_writes_an_editable_copy_that_is_then_used(tmp_path):
    done = cli("init", str(tmp_path / "cfg"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "cfg").iterdir()} == {
        "settings.toml",
        "sources.toml",
        "paragraphs.toml",
        ".env.example",
        "prompts",
    }
    s = load_settings(tmp_path / "cfg" / "settings.toml")
    assert s.library_path() == tmp_path / "cfg" / "sources.toml"
    assert s.prompts_dir() == tmp_path / "cfg" / "prompts"


def test_packaged_defaults_are_found_from_any_directory(tmp_path):
    s = load_settings()
    assert s.library_path().is_file() and (s.prompts_dir() / "framing.md").is_file()
    assert not Path(s.storage.path).is_relative_to(tmp_path)  # never the working directory


# ---- eval ---------------------------------------------------------------------------------------------------------

ROWS = [
    {"id": "a", "text": "China will win the AI race against America", "label": "frames"},
    {"id": "b", "text": "Qwen3 runs well on my 3090", "label": "other"},
]


def _dataset(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_json_is_one_document_even_per_item_and_jsonl_gives_lines(tmp_path):
    data = str(_dataset(tmp_path, ROWS))
    done = cli("eval", "--dataset", data, "--engine", "lexical", "--json", "--per-item", cwd=tmp_path)
    doc = json.loads(done.stdout)
    assert done.returncode == 0 and [x["id"] for x in doc["per_item"]] == ["a", "b"] and doc["items"] == 2
    done = cli("eval", "--dataset", data, "--engine", "lexical", "--jsonl", cwd=tmp_path)
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["a", "b"]
    assert "Headline" in done.stderr


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([*ROWS, {"id": "a", "text": "again", "label": "other"}], "id 'a' is already used on line 1"),
        ([*ROWS, {"id": "c", "text": "  ", "label": "other"}], "'text' is empty"),
    ],
)
def test_eval_refuses_duplicate_ids_and_empty_texts(tmp_path, rows, needle):
    done = cli("eval", "--dataset", str(_dataset(tmp_path, rows)), "--engine", "lexical", cwd=tmp_path)
    assert done.returncode == 2 and needle in one_sentence(done.stderr)


# ---- slash-command sync -------------------------------------------------------------------------------------------


async def test_slash_commands_sync_only_when_the_tree_changed(tmp_path, monkeypatch):
    settings = Settings(storage={"path": str(tmp_path / "db.sqlite3")}, llm={"base_url": unused_base_url()})
    sent: list[int] = []

    async def fake_sync(self, *, guild=None):
        sent.append(len(self.get_commands(guild=guild)))
        return []

    monkeypatch.setattr(discord.app_commands.CommandTree, "sync", fake_sync)
    async with build_resources(settings) as res:

        async def start() -> CounterpointBot:
            bot = CounterpointBot(res, extensions=())

            @bot.tree.command(name="ping", description="ping")
            async def ping(interaction: discord.Interaction) -> None: ...

            return bot

        bot = await start()
        assert await bot.sync_commands() is True  # first start: nothing synced before
        assert await (await start()).sync_commands() is False  # same tree: Discord is not asked again
        changed = await start()

        @changed.tree.command(name="pong", description="pong")
        async def pong(interaction: discord.Interaction) -> None: ...

        assert await changed.sync_commands() is True and sent == [1, 2]
        forced = await start()
        forced.force_sync = True  # `counterpoint sync`
        assert await forced.sync_commands() is True and sent == [1, 2, 1]


# ---- progress -----------------------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_sparse_lines_elsewhere():
    plain = io.StringIO()
    with Progress("eval", 100, stream=plain) as p:
        for _ in range(100):
            p.advance()
    assert plain.getvalue().splitlines() == [f"eval: {n}/100 items" for n in range(10, 101, 10)]
    term = _Terminal()
    with Progress("compiling", 4, unit="steps", stream=term) as p:
        p.set(2)
        p.set(300, total=600)  # ninja announces its real total once it starts
    assert "compiling" in term.getvalue() and "\r" in term.getvalue()


def test_the_quick_exit_keeps_the_output_and_runs_the_exit_handlers(tmp_path):
    # entry() ends the process with os._exit after flushing and running the atexit handlers: the whole JSON must
    # arrive, the log line too, and the program cache (saved by an atexit handler) must be written
    cache = tmp_path / "cache"
    done = cli("check", "--json", FRAMING, cwd=tmp_path, XDG_CACHE_HOME=str(cache))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["verdict"]["label"] == "frames" and doc["counterpoint"]["citations"]
    assert "counterpoint from the template" in done.stderr
    assert list(cache.glob("counterpoint/patterns-*.json")), "the atexit handler that saves the programs did not run"
    assert list(tmp_path.iterdir()) == [cache]


@pytest.mark.parametrize("closed", [1, 2])
def test_a_command_started_with_stdout_or_stderr_closed_ends_quietly(tmp_path, closed):
    # `counterpoint check x >&-`: Python starts with sys.stdout (or sys.stderr) None; the quick exit must not trip
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check", FRAMING], cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=90, check=False, preexec_fn=lambda: os.close(closed),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    if closed == 2:
        assert "verdict:   frames" in proc.stdout


@pytest.mark.parametrize("args", [["check", "-"], ["summarize", "-"]])
def test_reading_a_closed_or_binary_stdin_is_one_sentence(tmp_path, args):
    closed = subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=90, check=False, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert (
        closed.returncode == 2
        and one_sentence(closed.stderr) == "counterpoint: stdin is closed: there is nothing to read."
    )
    binary = subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=_env(), input=b"China \xff race", capture_output=True,
        timeout=90, check=False,
    )  # fmt: skip
    err = binary.stderr.decode()
    assert binary.returncode == 2 and one_sentence(err) == "counterpoint: stdin is not UTF-8 text (byte 6)."


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["summarize", "/dev/zero"], "counterpoint: /dev/zero is larger than 100 MB, the most counterpoint reads."),
        (["eval", "--dataset", "/dev/zero"], "counterpoint: Dataset /dev/zero is larger than 100 MB, the most"),
        (["check", "-"], "counterpoint: stdin is larger than 10 MB, the most counterpoint reads."),
        (["summarize", "-"], "counterpoint: stdin is larger than 100 MB, the most counterpoint reads."),
        (["check", "--config", "/dev/zero", "x"], "counterpoint: Config file /dev/zero is larger than 10 MB"),
    ],
)
def test_endless_input_is_refused_at_a_bound_not_read_into_memory(tmp_path, args, expected):
    # /dev/zero as a file, as stdin, as the settings: each read stops at its bound with one sentence
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=_env(), stdin=zero, capture_output=True,
            text=True, timeout=90, check=False,
        )  # fmt: skip
    assert done.returncode == 2 and one_sentence(done.stderr).startswith(expected)


def test_ctrl_c_during_start_up_is_one_line_not_a_traceback(tmp_path):
    code = "import bot.__main__ as m\ndef stop():\n    raise KeyboardInterrupt\nm.main = stop\nm.entry()\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 130 and one_sentence(done.stderr) == "counterpoint: interrupted"
