"""`counterpoint init [DIR] [--force]`: write an editable copy of the packaged defaults (settings.toml,
sources.toml, paragraphs.toml, prompts/) and a .env template, and say where. Without DIR: the per-user config
folder, which is read by default."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bot.settings import CONFIG_ENV, packaged_config_dir, user_config_dir

FILES = ("settings.toml", "sources.toml", "paragraphs.toml", ".env.example")


def run_init(args: argparse.Namespace) -> int:
    default = args.dir is None
    target = user_config_dir() if default else Path(args.dir)
    source = packaged_config_dir()
    wanted = [Path(name) for name in FILES] + sorted(
        Path("prompts") / p.name for p in (source / "prompts").glob("*.md")
    )
    written, kept = [], []
    try:
        for rel in wanted:
            dest = target / rel
            if dest.exists() and not args.force:
                kept.append(rel)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, dest)
            written.append(rel)
    except OSError as exc:
        where = exc.filename or target
        print(f"counterpoint: cannot write the defaults to {where}: {exc.strerror}.", file=sys.stderr)
        return 2
    print(
        f"Wrote {len(written)} file(s) to {target}"
        + (f"; kept {len(kept)} that exist (--force overwrites)" if kept else "")
        + "."
    )
    print(f"Edit {target / 'settings.toml'}, the source library sources.toml and the prompts/ next to it.")
    if default:
        print("counterpoint reads this folder by default.")
    else:
        print(f"Use it with --config {target / 'settings.toml'} or {CONFIG_ENV}={target / 'settings.toml'}.")
    print("Secrets go in the environment or in a .env file in the folder you run counterpoint from: start from "
          f"{target / '.env.example'}.")  # fmt: skip
    return 0
