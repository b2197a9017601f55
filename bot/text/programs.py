"""Compiled regular expressions kept on disk, so that a new process does not compile them again.

Python's `re` compiles in two steps: parsing and code generation in pure Python (`re._parser`, `re._compiler`), then
`_sre.compile`, which takes the finished program (a list of machine words) and validates it. A compiled pattern
cannot be pickled (pickling keeps only its source), but its program can be stored and handed to `_sre.compile`
again: the result is the very pattern `re.compile` builds, so matching is exactly the same.

The first step is what costs. A character class holding the CJK ranges makes the compiler visit each of its ~40,000
code points in Python (a few milliseconds per class), and the text modules hold a dozen such patterns: about 40 ms
of every `counterpoint check`, a tenth of it. The cue tables' ~650 patterns cost far more (bot/framing/cue_cache.py
keeps them in a file of their own, with these same helpers).

`compile()` is `re.compile` for a module's constant patterns: the programs of every pattern compiled that way live
in one file in the per-user cache folder, keyed by the Python version and `_sre`'s code format. A pattern the file
lacks is compiled as usual, and its program is made and added when the process exits (after the command has
answered). Anything unexpected (no folder, a file from another
version, a corrupt file, a program `_sre` refuses) falls back to `re.compile`, silently. Patterns built from data
(a user's words, a table) must not go through it: the file would grow with every new pattern. The folder is
trusted as the per-user settings folder is: `_sre` refuses a malformed program, not a well-formed different one, and
whoever can write either folder can change what the bot does anyway.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_PATTERNS = 400  # the text modules hold a few dozen; the cap only guards against misuse

try:  # private, but stable since Python 3.7; without it (another interpreter) nothing is cached
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    CODE_FORMAT = f"{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}"
    WORD = next(t for t in "IL" if array(t).itemsize == _sre.CODESIZE)  # an unsigned C int as wide as _sre's code
except (ImportError, AttributeError, StopIteration):  # StopIteration: no array type as wide as _sre's code
    _sre = None
    CODE_FORMAT = ""
    WORD = "I"

CACHEABLE = _sre is not None


def parts(pattern: str, flags: int = 0) -> tuple[list[Any], array[int]]:
    """What `re.compile` hands to `_sre.compile`: [pattern, flags, groups, groupindex, indexgroup] (JSON-ready) and
    the program's code as machine words."""
    p = _parser.parse(pattern, flags)
    code = _compiler._code(p, flags)
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    return [pattern, flags | p.state.flags, p.state.groups - 1, groupindex, indexgroup], array(WORD, code)


def make(meta: list[Any], code: array[int]) -> re.Pattern[str]:
    """The pattern `parts` describes; ValueError, TypeError or RuntimeError when it is not a valid one."""
    pattern, flags, groups, groupindex, indexgroup = meta
    compiled = _sre.compile(pattern, flags, code.tolist(), groups, groupindex, tuple(indexgroup))
    if not isinstance(compiled, re.Pattern) or compiled.pattern != pattern:
        raise ValueError("not the stored pattern")
    return compiled


def program(pattern: str, flags: int = 0) -> list[Any]:
    """`parts` in one JSON-ready list, the code as base64 of its machine words (a JSON list of the same numbers
    takes far longer to parse)."""
    meta, code = parts(pattern, flags)
    return [*meta[:2], base64.b64encode(code.tobytes()).decode("ascii"), *meta[2:]]


def load(stored: list[Any]) -> re.Pattern[str]:
    """The pattern a stored program makes; ValueError, TypeError or RuntimeError when it is not a valid one."""
    pattern, flags, words, groups, groupindex, indexgroup = stored
    code = array(WORD, base64.b64decode(words, validate=True))  # ValueError on a bad length or letter
    return make([pattern, flags, groups, groupindex, indexgroup], code)


def write_file(path: Path, data: bytes, *, keep: int, glob: str) -> None:
    """Atomically: two processes writing together each write a whole file, and the last rename wins. Then only the
    newest `keep` files matching `glob` stay (older tables, or another Python sharing the folder)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        for old in sorted(path.parent.glob(glob), key=lambda f: f.stat().st_mtime)[:-keep]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("cache not written to %s: %s", path, exc)


def write_json(path: Path, data: Any, *, keep: int, glob: str) -> None:
    """`write_file` of compact JSON."""
    write_file(path, json.dumps(data, separators=(",", ":")).encode("utf-8"), keep=keep, glob=glob)


class ProgramFile:
    """The programs of a process's constant patterns: read once, on the first compile; written at exit when the
    process compiled a pattern the file lacked."""

    def __init__(self, folder: Path | None) -> None:
        key = hashlib.sha256(CODE_FORMAT.encode()).hexdigest()[:16]
        self.path = folder / f"patterns-{key}.json" if folder is not None and CACHEABLE else None
        self._known: dict[str, list[Any]] | None = None
        self.added: dict[str, tuple[str, int]] = {}

    def _read(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.debug("pattern cache %s unusable (%s); compiling", self.path, exc)
            return {}

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        if self.path is None:
            return re.compile(pattern, flags)
        if self._known is None:
            self._known = self._read()
        name = f"{flags}:{pattern}"
        stored = self._known.get(name)
        if stored is not None:
            try:
                return load(stored)
            except (ValueError, TypeError, RuntimeError) as exc:  # RuntimeError: _sre refused the program
                log.debug("cached program of %r refused (%s); compiling", pattern[:40], exc)
        compiled = re.compile(pattern, flags)  # errors in the pattern itself surface here, as usual
        if not self.added:
            atexit.register(self.save)
        self.added[name] = (pattern, flags)  # its program is made at exit, after the command has answered
        return compiled

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        merged = self._read()  # another process may have added its own meanwhile
        for name, (pattern, flags) in self.added.items():
            try:
                merged[name] = program(pattern, flags)
            except Exception as exc:  # a private API: anything it raises only means no caching
                log.debug("no program for %r: %s", pattern[:40], exc)
        if len(merged) <= MAX_PATTERNS:
            write_json(self.path, merged, keep=2, glob="patterns-*.json")
        self.added = {}


def _user_cache() -> Path | None:
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("counterpoint", appauthor=False))
    except Exception:
        return None


_FILE = ProgramFile(_user_cache())


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile` for a module's constant patterns, its program read from the per-user cache when there."""
    return _FILE.compile(pattern, flags)
