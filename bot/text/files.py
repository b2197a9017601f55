"""Reading a text file the user named (an export, a dataset): each way it can fail is one sentence, InputError."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.errors import InputError


def read_user_file(path: Path, *, name: str, folder: str, encoding: str = "utf-8") -> str:
    """The file's text. `name` is how the sentence calls the file ("Dataset data.jsonl"), `folder` what it says
    when the path is a directory ("is a directory, not an export file")."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{name} {folder}.") from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"{name} cannot be read ({exc.strerror}).") from None


def read_stdin(stream: TextIO | None = None, *, encoding: str = "utf-8") -> str:
    """Standard input's text (`counterpoint check -`, `summarize -`), read as bytes and decoded strictly, so the
    answer does not depend on the terminal's locale. Closed (`<&-`), unreadable or not UTF-8: one sentence."""
    stream = stream if stream is not None else sys.stdin
    if stream is None:
        raise InputError("stdin is closed: there is nothing to read.")
    try:
        raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    except OSError as exc:
        raise InputError(f"stdin cannot be read ({exc.strerror}).") from None
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"stdin is not UTF-8 text (byte {exc.start}).") from None
