"""CLI entry: parse arguments, load settings once, dispatch to a command module, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot import __version__
from bot.errors import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, ConfigError, CounterpointError
from bot.settings import load_settings

log = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="PATH",
        help="settings file (default: $COUNTERPOINT_CONFIG, else settings.toml in the per-user config folder, "
        "else the packaged defaults)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counterpoint",
        description="Summaries and sourced counterpoints for AI communities on Discord and Reddit.",
    )
    parser.add_argument("--version", action="version", version=f"counterpoint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="start every front door that has credentials (Discord, Reddit)")
    _add_common(p)

    p = sub.add_parser("demo", help="replay the bundled discussion through the whole pipeline")
    p.add_argument("--embedded-model", action="store_true", help="run through the embedded local model")
    _add_common(p)

    p = sub.add_parser("check", help="framing verdict for a text, plus the counterpoint when it frames")
    p.add_argument("text", metavar="TEXT|-", help="the text, or - to read stdin")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--engine", choices=("auto", "llm", "lexical"), default=None)
    p.add_argument("--parent", metavar="TEXT", default=None, help="the post it replies to, as context")
    _add_common(p)

    p = sub.add_parser("summarize", help="summarize a thread export, a Reddit URL, or - for stdin")
    p.add_argument("source", metavar="SRC")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    _add_common(p)

    p = sub.add_parser("eval", help="measure the framing detector on a labelled JSONL dataset")
    p.add_argument("--dataset", required=True, metavar="FILE")
    p.add_argument("--engine", choices=("auto", "llm", "lexical"), default="auto")
    p.add_argument("--per-item", action="store_true", help="every item's verdict (JSON lines, or in --json)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON document (with --per-item: items inside)")
    fmt.add_argument("--jsonl", action="store_true", help="print one JSON line per item; the report goes to stderr")
    _add_common(p)

    p = sub.add_parser("calibrate", help="measure the model on the bundled labelled set; pick the engine for auto")
    p.add_argument("--time-budget", type=float, default=600.0, metavar="S", help="seconds of model calls (600)")
    p.add_argument("--sample", type=int, default=None, metavar="N", help="measure on N random labelled posts")
    _add_common(p)

    p = sub.add_parser("doctor", help="checklist of config, storage, model endpoint, platform credentials")
    _add_common(p)

    p = sub.add_parser("model", help="fetch or serve the embedded local model")
    p.add_argument("action", choices=("fetch", "serve"))
    _add_common(p)

    p = sub.add_parser("sync", help="register the Discord slash commands now (start-up syncs only after a change)")
    _add_common(p)

    p = sub.add_parser("init", help="write an editable copy of the default settings, prompts and sources")
    p.add_argument("dir", metavar="DIR", nargs="?", default=None, help="where (default: the per-user config folder)")
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")
    _add_common(p)
    return parser


def configure_logging(level: str, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "aiosqlite", "discord.gateway", "prawcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def entry() -> NoReturn:
    """The `counterpoint` program (and `python -m bot`): main() in a process that starts and ends quickly.

    Two costs of a short command are not its work. Python's cyclic garbage collector runs again and again while the
    imports allocate their long-lived objects (pydantic's schemas, the compiled programs); and when the command has
    answered, tearing the interpreter down frees every object one by one. Measured on `check` (bench/startup.py),
    the first was about 30 ms and the second 60-90 ms of a 450 ms run. So the collector is off until the command's
    module and the settings are loaded, those objects are then frozen out of its sight (gc.freeze, as long-running
    servers do after start-up) and it runs as usual; and the process ends with os._exit once stdout and stderr
    are flushed and the atexit handlers (the program cache's save, logging's shutdown) have run. The memory goes
    back to the system with the process. Tests call main() in-process and get neither."""
    gc.disable()
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before the command's own handler (during start-up): no traceback
        print("counterpoint: interrupted", file=sys.stderr)
        code = 130
    _finish(code)


def _finish(code: int) -> NoReturn:
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # private; another interpreter may lack it
    if run_exit_handlers is None:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed (`counterpoint check x >&-`): nothing to flush
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away, or the stream was closed: nothing more to say
            _silence(stream)
    run_exit_handlers()
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()  # what a handler logged
    os._exit(code)


def _silence(stream: object) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (`counterpoint check ... | head -1`): stop quietly, and keep Python's final flush
        # of stdout from raising again
        _silence(sys.stdout)
        return EXIT_OK


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 with usage on bad input
    if args.command == "init":  # needs no settings: it writes them
        from bot.commands import init

        return init.run_init(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"counterpoint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.logging.level, args.verbose)
    module = importlib.import_module(f"bot.commands.{args.command}")
    if not gc.isenabled():  # entry() turned it off for the start-up: keep what start-up made out of its sight
        gc.freeze()
        gc.enable()
    try:
        return int(asyncio.run(module.run(args, settings)))
    except ConfigError as exc:
        print(f"counterpoint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CounterpointError as exc:  # a model server, the database or Reddit is unavailable
        print(f"counterpoint: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        print("counterpoint: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    entry()
