"""The cue regexes' compiled programs, kept on disk so that a new process does not compile them again.

Compiling the ~650 trie-shaped cue patterns costs about a second (much more on a loaded machine), more than the rest
of `counterpoint check` together. Python's `re` cannot pickle a compiled pattern (pickling keeps only its source), but
compiling is two steps: parse + code generation in pure Python (`re._compiler`), then `_sre.compile`, which takes the
finished program (a list of ints) and validates it. The cache stores those programs (bot/text/programs.py); loading
one is a slice of the file, a conversion to a list and the C-level validation. The result is the very program
`re.compile` builds, so matching is exactly as before.

The file (format 4) is a JSON header followed by every program's code as raw machine words:
`MAGIC`, the header's length (8 bytes, little-endian), the header {"programs": {family: [ascii, full]}, "extra": ...}
where each program is [pattern, flags, groups, groupindex, indexgroup, offset, words], then the code. Format 3 kept
the code as base64 inside the JSON: parsing 2 MB of JSON and decoding the base64 took ~7 ms of every `check`; the
header alone is ~150 kB. "extra" holds the cue screen's literals (bot/framing/cue_screen.py), which also come from
parsing every fragment (about 60 ms). The format number is part of the key, so a file of an older format is never
read as this one. The key is a hash of the cue tables, of the modules that turn them into patterns and screens, and
of the Python version and `_sre`'s code format; the file lives in the per-user cache folder. Anything unexpected (no
folder, a file from another version, a corrupt or short file, a program `_sre` refuses) falls back to `re.compile`
(and the screen to parsing again), silently.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.text.programs import CACHEABLE, CODE_FORMAT, WORD, make, parts, write_file

log = logging.getLogger(__name__)

KEEP = 4  # cache files kept
# 2: {"programs": ..., "extra": ...}, the programs and data computed with them (the cue screen); 3: each program's
# code as base64 of its machine words instead of a JSON list of ints (the 2 MB of numbers took ~40 ms to parse);
# 4: a JSON header, then the code as raw machine words (no 2 MB JSON parse, no base64)
FORMAT = 4
MAGIC = b"CPCUES4\n"
SIZE = array(WORD).itemsize
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
    path = folder / f"cues-{key}.bin" if folder is not None and CACHEABLE else None
    if path is not None:
        try:
            return _read(path.read_bytes(), functools.cache(build))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:  # RuntimeError: _sre said no
            log.debug("cue cache %s unusable (%s); compiling", path, exc)
    built = build()
    if path is None:
        return {name: (re.compile(a), functools.partial(re.compile, f)) for name, (a, f) in built.items()}, extra()
    programs = {name: (parts(a), parts(f)) for name, (a, f) in built.items()}
    computed = extra()
    write_file(path, _encode(programs, computed), keep=KEEP, glob="cues-*.bin")
    for old in path.parent.glob("cues-*.json"):  # format 3 and older: never read again
        old.unlink(missing_ok=True)
    return {name: (make(*a), functools.partial(make, *f)) for name, (a, f) in programs.items()}, computed


Parts = tuple[list[Any], "array[int]"]


def _encode(programs: dict[str, tuple[Parts, Parts]], extra: Any) -> bytes:
    body = array(WORD)
    header: dict[str, Any] = {"programs": {}, "extra": extra}
    for name, pair in programs.items():
        stored = []
        for meta, code in pair:
            stored.append([*meta, len(body), len(code)])
            body.extend(code)
        header["programs"][name] = stored
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return MAGIC + len(head).to_bytes(8, "little") + head + body.tobytes()


def _read(data: bytes, sources: Callable[[], Sources]) -> tuple[Loaded, Any]:
    if not data.startswith(MAGIC):
        raise ValueError("not a cue cache file")
    start = len(MAGIC) + 8
    length = int.from_bytes(data[len(MAGIC) : start], "little")
    header = json.loads(data[start : start + length])
    body = memoryview(data)[start + length :]

    def code(stored: list[Any]) -> tuple[list[Any], array[int]]:
        *meta, offset, words = stored
        if not (isinstance(offset, int) and isinstance(words, int) and offset >= 0 and words > 0):
            raise ValueError("bad program bounds")
        chunk = body[offset * SIZE : (offset + words) * SIZE]
        if len(chunk) != words * SIZE:
            raise ValueError("the file is shorter than its header says")
        out = array(WORD)
        out.frombytes(chunk)
        return meta, out

    loaded: Loaded = {}
    for name, (ascii_stored, full_stored) in header["programs"].items():
        full_meta, full_code = code(full_stored)  # a copy of its words (the file's bytes can go)
        loaded[name] = (make(*code(ascii_stored)), _deferred(name, full_meta, full_code, sources))
    return loaded, header["extra"]


def _deferred(
    name: str, meta: list[Any], code: array[int], sources: Callable[[], Sources]
) -> Callable[[], re.Pattern[str]]:
    def make_full() -> re.Pattern[str]:
        try:
            return make(meta, code)
        except (ValueError, TypeError, RuntimeError) as exc:
            log.debug("cached full program of %s refused (%s); compiling", name, exc)
            return re.compile(sources()[name][1])

    return make_full
