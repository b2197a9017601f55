"""Reading what the user hands over (an export, a dataset, standard input): each way it can fail is one sentence,
InputError, and nothing is read past a bound, so `summarize /dev/zero` or a runaway pipe ends with an answer instead
of filling the memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO, TextIO, overload

from bot.errors import InputError

MAX_FILE_BYTES = 100 * 2**20  # an export or a dataset: a DiscordChatExporter thread of tens of thousands of messages
MAX_TEXT_BYTES = 10 * 2**20  # one text to check (the detector reads its first 20,000 characters)


@overload
def read_capped(fh: BinaryIO, limit: int, name: str) -> bytes: ...
@overload
def read_capped(fh: TextIO, limit: int, name: str) -> str: ...
def read_capped(fh: BinaryIO | TextIO, limit: int, name: str) -> bytes | str:
    """At most `limit` bytes (or characters, from a text stream) of `fh`; InputError when there are more."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{name} is larger than {limit // 2**20} MB, the most counterpoint reads.")
    return data


def decode(raw: bytes, name: str, encoding: str = "utf-8") -> str:
    """Strict UTF-8 (or `encoding`), with line ends made `\\n` as Python's text files make them."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start}).") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def read_user_file(path: Path, *, name: str, folder: str, encoding: str = "utf-8", limit: int | None = None) -> str:
    """The file's text. `name` is how the sentence calls the file ("Dataset data.jsonl"), `folder` what it says
    when the path is a directory ("is a directory, not an export file")."""
    try:
        with path.open("rb") as fh:
            raw = read_capped(fh, MAX_FILE_BYTES if limit is None else limit, name)
    except FileNotFoundError:
        raise InputError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{name} {folder}.") from None
    except OSError as exc:
        raise InputError(f"{name} cannot be read ({exc.strerror}).") from None
    return decode(raw, name, encoding)


def read_stdin(stream: TextIO | None = None, *, encoding: str = "utf-8", limit: int | None = None) -> str:
    """Standard input's text (`counterpoint check -`, `summarize -`), read as bytes and decoded strictly, so the
    answer does not depend on the terminal's locale. Closed (`<&-`), unreadable, too large or not UTF-8: one
    sentence."""
    stream = stream if stream is not None else sys.stdin
    if stream is None:
        raise InputError("stdin is closed: there is nothing to read.")
    cap = MAX_FILE_BYTES if limit is None else limit
    try:
        if hasattr(stream, "buffer"):
            return decode(read_capped(stream.buffer, cap, "stdin"), "stdin", encoding)
        return read_capped(stream, cap, "stdin")  # a text stream handed in (tests, a caller's StringIO)
    except OSError as exc:
        raise InputError(f"stdin cannot be read ({exc.strerror}).") from None
