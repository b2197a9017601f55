"""The cue regexes' compiled programs, kept on disk so that a new process does not compile them again.

Compiling the ~650 trie-shaped cue patterns costs about a second (much more on a loaded machine), more than the rest
of `counterpoint check` together. Python's `re` cannot pickle a compiled pattern (pickling keeps only its source), but
compiling is two steps: parse + code generation in pure Python (`re._compiler`), then `_sre.compile`, which takes the
finished program (a list of ints) and validates it. The cache stores those programs (bot/text/programs.py: each
program's code as the base64 of its machine words; parsing the same numbers as a JSON list took ~40 ms, the largest
part of loading); loading one is a JSON read, a base64 decode and the C-level validation, a few milliseconds. The
result is the very program `re.compile` builds, so matching is exactly as before.

The same file keeps the cue screen's literals (bot/framing/cue_screen.py), which also come from parsing every fragment
(about 60 ms): the file holds {"programs": ..., "extra": ...}, and the format number is part of the key, so a file of
an older format is never read as this one. The cache file is keyed by a hash of the cue tables, of the modules that
turn them into patterns and screens, and of the Python version and `_sre`'s code format; it lives in the per-user
cache folder. Anything unexpected (no folder, a file from another version, a corrupt file, a different `_sre`) falls
back to `re.compile` (and the screen to parsing again), silently.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.text.programs import CACHEABLE, CODE_FORMAT, write_json
from bot.text.programs import load as _load
from bot.text.programs import program as _program

log = logging.getLogger(__name__)

KEEP = 4  # cache files kept
# 2: {"programs": ..., "extra": ...}, the programs and data computed with them (the cue screen); 3: each program's
# code as base64 of its machine words instead of a JSON list of ints (the 2 MB of numbers took ~40 ms to parse)
FORMAT = 3
Compiled = dict[str, tuple[re.Pattern[str], re.Pattern[str]]]
Loaded = dict[str, tuple[re.Pattern[str], Callable[[], re.Pattern[str]]]]  # the full pattern made on first use
Sources = dict[str, tuple[str, str]]


def key_of(*parts: object) -> str:
    h = hashlib.sha256(f"{FORMAT}|{CODE_FORMAT}".encode())
    for part in parts:
        h.update(repr(part).encode())
    return h.hexdigest()[:24]


def cached(key: str, folder: Path | None, build: Callable[[], Sources]) -> Compiled:
    """The compiled (ascii, full) pattern pair of every family, from the cache when it holds `key`."""
    return {name: (a, full()) for name, (a, full) in load(key, folder, build, lambda: None)[0].items()}


def load(key: str, folder: Path | None, build: Callable[[], Sources], extra: Callable[[], Any]) -> tuple[Loaded, Any]:
    """Each family's ASCII pattern and a maker of its full pattern, and the JSON data `extra` computes, both from
    the cache when it holds `key`. The full patterns (CJK, Cyrillic... entries: 57% of the programs' words) are made
    on first use: most posts are ASCII and never need them. A full program the cache holds but `_sre` refuses then
    is compiled from the tables instead."""
    path = folder / f"cues-{key}.json" if folder is not None and CACHEABLE else None
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sources = functools.cache(build)
            loaded = {name: (_load(a), _deferred(name, f, sources)) for name, (a, f) in data["programs"].items()}
            return loaded, data["extra"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:  # RuntimeError: _sre said no
            log.debug("cue cache %s unusable (%s); compiling", path, exc)
    built = build()
    if path is None:
        return {name: (re.compile(a), functools.partial(re.compile, f)) for name, (a, f) in built.items()}, extra()
    programs = {name: (_program(a), _program(f)) for name, (a, f) in built.items()}
    data = {"programs": programs, "extra": extra()}
    write_json(path, data, keep=KEEP, glob="cues-*.json")
    return {name: (_load(a), functools.partial(_load, f)) for name, (a, f) in programs.items()}, data["extra"]


def _deferred(name: str, stored: list[Any], sources: Callable[[], Sources]) -> Callable[[], re.Pattern[str]]:
    if not isinstance(stored, list):
        raise TypeError(f"the full program of {name} is not a stored program")

    def make() -> re.Pattern[str]:
        try:
            return _load(stored)
        except (ValueError, TypeError, RuntimeError) as exc:
            log.debug("cached full program of %s refused (%s); compiling", name, exc)
            return re.compile(sources()[name][1])

    return make
