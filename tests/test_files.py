"""bot/text/files.py: what the user hands over is read up to a bound, strictly as UTF-8, with Python's line ends."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.text.files import read_stdin, read_user_file


def test_line_ends_and_text_are_what_read_text_gives(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes('{"a": "caf\u00e9"}\r\n{"b": 1}\r{"c": 2}\n'.encode())
    assert read_user_file(path, name="x", folder="f") == path.read_text(encoding="utf-8")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf[]\r\n")
    assert read_user_file(bom, name="x", folder="f", encoding="utf-8-sig") == bom.read_text(encoding="utf-8-sig")


def test_a_file_past_the_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * (2 * 2**20 + 1))
    with pytest.raises(InputError, match=r"^Dataset big is larger than 2 MB, the most counterpoint reads\.$"):
        read_user_file(path, name="Dataset big", folder="f", limit=2 * 2**20)
    assert len(read_user_file(path, name="x", folder="f", limit=3 * 2**20)) == 2 * 2**20 + 1


def test_failures_are_one_sentence_each(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"^L is not UTF-8 text \(byte 3\)\.$"):
        read_user_file(tmp_path / "latin1.txt", name="L", folder="f")
    with pytest.raises(InputError, match=r"^D is a folder\.$"):
        read_user_file(tmp_path, name="D", folder="is a folder")
    with pytest.raises(InputError, match=r"^N does not exist\.$"):
        read_user_file(tmp_path / "nope", name="N", folder="f")


def test_stdin_as_bytes_or_as_a_text_stream() -> None:
    wrapped = io.TextIOWrapper(io.BytesIO(b"China \xe2\x80\x94 race\r\n"), encoding="latin-1")
    assert read_stdin(wrapped) == "China \u2014 race\n"  # the bytes, decoded as UTF-8 whatever the stream's locale
    assert read_stdin(io.StringIO("plain text")) == "plain text"
    with pytest.raises(InputError, match="stdin is larger than 1 MB"):
        read_stdin(io.StringIO("x" * (2**20 + 1)), limit=2**20)
    with pytest.raises(InputError, match=r"stdin is not UTF-8 text \(byte 0\)"):
        read_stdin(io.TextIOWrapper(io.BytesIO(b"\xff")))
