"""Reading a text file the user named (an export, a dataset): each way it can fail is one sentence, InputError."""

from __future__ import annotations

from pathlib import Path

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
