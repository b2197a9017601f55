"""`counterpoint model fetch|serve`: the embedded llama.cpp server with SmolLM2-135M, for zero-setup runs."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from bot.llm import embedded as localmodel
from bot.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "fetch":
        return await asyncio.to_thread(_fetch)
    return await _serve()


def _fetch() -> int:
    try:
        print("model weights: downloading SmolLM2-135M-Instruct (94 MB) if needed ...", file=sys.stderr, flush=True)
        print(f"model weights: {localmodel.fetch_model()}")
        print(
            "llama-server: building from source if needed (10-20 minutes on 2 cores; progress below) ...",
            file=sys.stderr,
            flush=True,
        )
        print(f"llama-server: {localmodel.build_server()}")
    except localmodel.LocalModelError as exc:
        print(f"counterpoint: {exc}", file=sys.stderr)
        return 3
    return 0


async def _serve() -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = localmodel.EmbeddedServer()
        async with server as url:
            print(f"serving SmolLM2-135M-Instruct at {url} (Ctrl-C stops it)", flush=True)
            print(
                f"use it: COUNTERPOINT_LLM__BASE_URL={url} COUNTERPOINT_LLM__CONTEXT_TOKENS={server.slot_context} "
                "counterpoint doctor",
                file=sys.stderr,
            )
            await stop.wait()
    except localmodel.LocalModelError as exc:
        print(f"counterpoint: {exc}", file=sys.stderr)
        return 3
    print("stopped", file=sys.stderr)
    return 0
