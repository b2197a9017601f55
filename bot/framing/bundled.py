"""The labelled sets that ship with the package (bot/data, described in bot/data/README.md)."""

from __future__ import annotations

from pathlib import Path

from bot.framing.evaluate import Item, load_dataset

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FRAMING_FILE = DATA_DIR / "framing.jsonl"
CHATTER_FILE = DATA_DIR / "chatter.jsonl"


def framing_items() -> list[Item]:
    return load_dataset(FRAMING_FILE)


def chatter_items() -> list[Item]:
    return load_dataset(CHATTER_FILE)
