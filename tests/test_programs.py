"""The text modules' constant patterns keep their compiled programs on disk (bot/text/programs.py): a pattern loaded
from the file is the pattern `re.compile` builds, and a missing, corrupt or tampered file only costs a compile."""

from __future__ import annotations

import base64
import json
import re
from array import array
from pathlib import Path

import pytest

from bot.counterpoint import opening, verify
from bot.text import clean, limits, normalize, programs

TEXTS = (
    "Visit evil.sh or https://example.com/x?y=1 and ping @everyone <@123> r/LocalLLaMA u/someone",
    "中美AI竞赛，美国必须赢。日本語のテキストと한국어 텍스트도 있습니다.",
    "<think>plan</think>The answer [1][2]. Mods are liars! 192.168.0.1:8080 javascript:alert(1)",
    "Ｆｕｌｌｗｉｄｔｈ ＠here and a soft\u00adhyphen, a zero\u200bwidth and a bidi \u202eoverride",
    "",
)

pytestmark = pytest.mark.skipif(not programs.CACHEABLE, reason="this interpreter has no re._parser/_sre to cache")


def module_patterns() -> list[re.Pattern[str]]:
    out = []
    for module in (clean, limits, normalize, opening, verify):
        out += [v for v in vars(module).values() if isinstance(v, re.Pattern)]
    assert len(out) >= 40  # the text modules' constants: if this drops, the modules stopped using the cache
    return out


def same(a: re.Pattern[str], b: re.Pattern[str]) -> None:
    assert (a.pattern, a.flags, a.groups, a.groupindex) == (b.pattern, b.flags, b.groups, b.groupindex)
    for text in TEXTS:
        assert [m.span() for m in a.finditer(text)] == [m.span() for m in b.finditer(text)]


def test_every_module_pattern_loads_from_the_file_as_re_compile_builds_it(tmp_path: Path):
    first = programs.ProgramFile(tmp_path)
    patterns = module_patterns()
    for p in patterns:
        first.compile(p.pattern, p.flags)
    assert len(first.added) == len({(p.pattern, p.flags) for p in patterns})
    first.save()
    second = programs.ProgramFile(tmp_path)  # a new process
    for p in patterns:
        same(second.compile(p.pattern, p.flags), re.compile(p.pattern, p.flags))
        same(second.compile(p.pattern, p.flags), p)
    assert second.added == {}  # nothing compiled again: every program came from the file


def test_a_corrupt_file_is_rebuilt(tmp_path: Path):
    first = programs.ProgramFile(tmp_path)
    first.compile(r"\bwar\b", re.I)
    first.save()
    path = next(tmp_path.glob("patterns-*.json"))
    path.write_text(path.read_text()[:20], encoding="utf-8")
    again = programs.ProgramFile(tmp_path)
    assert again.compile(r"\bwar\b", re.I).search("The WAR")
    assert again.added  # compiled, to be written whole
    again.save()
    assert json.loads(path.read_text())  # valid again


def test_a_tampered_program_is_refused_not_run(tmp_path: Path):
    first = programs.ProgramFile(tmp_path)
    first.compile(r"race|war")
    first.save()
    path = next(tmp_path.glob("patterns-*.json"))
    data = json.loads(path.read_text())
    (name, stored) = next(iter(data.items()))
    code = array(programs.WORD, base64.b64decode(stored[2]))
    code[0] = 99999  # not an opcode
    data[name] = [stored[0], stored[1], base64.b64encode(code.tobytes()).decode(), *stored[3:]]
    path.write_text(json.dumps(data), encoding="utf-8")
    again = programs.ProgramFile(tmp_path)
    assert again.compile(r"race|war").search("the ai race") and again.added


def test_without_a_folder_it_compiles_and_writes_nothing(tmp_path: Path):
    none = programs.ProgramFile(None)
    assert none.compile(r"a+").match("aaa") and none.added == {}
    none.save()
    assert list(tmp_path.iterdir()) == []


def test_a_pattern_error_surfaces_as_re_compile_gives_it(tmp_path: Path):
    with pytest.raises(re.error):
        programs.ProgramFile(tmp_path).compile(r"(unclosed")


def test_the_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(programs, "MAX_PATTERNS", 3)
    many = programs.ProgramFile(tmp_path)
    for word in ("a", "b", "c", "d"):
        many.compile(word)
    many.save()
    assert list(tmp_path.glob("patterns-*.json")) == []  # patterns built from data would grow it: nothing written
