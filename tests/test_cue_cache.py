"""The cue regexes' compiled programs are cached on disk (bot/framing/cue_cache.py): a cached load gives the same
patterns that compiling gives, and a missing, corrupt or foreign cache file only costs a compile."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import pytest

from bot.framing import cue_cache
from bot.framing.cues import _all_sources, families
from bot.text import programs

TEXTS = ("We must beat China in the AI race.", "中美AI竞赛，美国必须赢", "Qwen runs fine on my laptop", "США и Китай")


def counting_build(calls: list[int]):
    def build() -> dict[str, tuple[str, str]]:
        calls.append(1)
        return _all_sources()

    return build


def test_second_process_loads_the_same_programs_without_compiling(tmp_path: Path):
    calls: list[int] = []
    first = cue_cache.cached("k1", tmp_path, counting_build(calls))
    second = cue_cache.cached("k1", tmp_path, counting_build(calls))
    assert calls == [1] and len(list(tmp_path.glob("cues-*.bin"))) == 1
    shipped = families()
    for name, (ascii_re, full_re) in second.items():
        assert ascii_re.pattern == first[name][0].pattern == shipped[name].ascii_re.pattern
        assert full_re.pattern == first[name][1].pattern == shipped[name].full_re.pattern
        for text in TEXTS:
            low = text.lower()
            assert [m.span() for m in full_re.finditer(low)] == [m.span() for m in shipped[name].full_re.finditer(low)]


def break_program(path: Path, family: str, which: int) -> None:
    """Overwrite the first word of one stored program with a number that is no opcode."""
    data = path.read_bytes()
    start = len(cue_cache.MAGIC) + 8
    length = int.from_bytes(data[len(cue_cache.MAGIC) : start], "little")
    offset = json.loads(data[start : start + length])["programs"][family][which][-2]
    at = start + length + offset * cue_cache.SIZE
    code = array(programs.WORD, data[at : at + cue_cache.SIZE])
    code[0] = 99999
    path.write_bytes(data[:at] + code.tobytes() + data[at + cue_cache.SIZE :])


@pytest.mark.parametrize("cut", [1000, 20, 0])
def test_a_corrupt_or_short_cache_file_is_rebuilt(tmp_path: Path, cut: int):
    calls: list[int] = []
    cue_cache.cached("k2", tmp_path, counting_build(calls))
    path = tmp_path / "cues-k2.bin"
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else data[:-8])  # cut inside the header, the length, or the last program
    again = cue_cache.cached("k2", tmp_path, counting_build(calls))
    assert calls == [1, 1] and again["gate"][0].search("we must beat china in the ai race")
    assert cue_cache.cached("k2", tmp_path, counting_build(calls)) and calls == [1, 1]  # rewritten whole


def test_a_file_of_the_old_format_is_not_read_and_is_removed(tmp_path: Path):
    (tmp_path / "cues-old.json").write_text('{"programs": {}, "extra": {}}', encoding="utf-8")
    (tmp_path / "cues-k7.bin").write_bytes(b'{"programs": {}, "extra": {}}')  # no magic: not this format
    calls: list[int] = []
    assert cue_cache.cached("k7", tmp_path, counting_build(calls))["gate"][0].search("the ai race with china")
    assert calls == [1] and sorted(p.name for p in tmp_path.iterdir()) == ["cues-k7.bin"]


def test_a_tampered_program_is_rejected_not_run(tmp_path: Path):
    calls: list[int] = []
    cue_cache.cached("k3", tmp_path, counting_build(calls))
    break_program(tmp_path / "cues-k3.bin", "gate", 0)
    assert cue_cache.cached("k3", tmp_path, counting_build(calls))["gate"][0].search("the ai race with china")
    assert calls == [1, 1]


def test_a_full_program_is_made_on_first_use_and_a_refused_one_is_compiled(tmp_path: Path):
    # the full programs (non-ASCII text) are made when first needed; one that _sre refuses then is compiled
    # from the tables, for that family only, and matches as the shipped one does
    calls: list[int] = []
    cue_cache.cached("k6", tmp_path, counting_build(calls))
    break_program(tmp_path / "cues-k6.bin", "gate", 1)
    loaded, _ = cue_cache.load("k6", tmp_path, counting_build(calls), lambda: None)
    assert calls == [1]  # the ASCII programs loaded; nothing compiled yet
    contest_full = loaded["contest"][1]()  # an intact full program: from the cache
    assert calls == [1] and contest_full.pattern == families()["contest"].full_re.pattern
    gate_full = loaded["gate"][1]()
    assert calls == [1, 1] and gate_full.pattern == families()["gate"].full_re.pattern
    assert (
        gate_full.search("中美ai竞赛")
        and gate_full.search("中美ai竞赛").span() == families()["gate"].full_re.search("中美ai竞赛").span()
    )


def test_without_a_folder_it_compiles(tmp_path: Path):
    calls: list[int] = []
    compiled = cue_cache.cached("k4", None, counting_build(calls))
    assert calls == [1] and compiled["gate"][1].search("中美ai竞赛")


def test_the_screen_literals_are_cached_with_the_programs(tmp_path: Path):
    calls: list[int] = []
    extras: list[int] = []

    def extra() -> dict[str, list[list[object]] | None]:
        extras.append(1)
        return {"contest": [["war", True, True]], "ai": None}

    first = cue_cache.load("k5", tmp_path, counting_build(calls), extra)
    second = cue_cache.load("k5", tmp_path, counting_build(calls), extra)
    assert calls == [1] and extras == [1]
    assert first[1] == second[1] == {"contest": [["war", True, True]], "ai": None}
    assert second[0]["gate"][0].search("the ai race with china")


def test_the_format_is_part_of_the_key(monkeypatch):
    before = cue_cache.key_of("tables")
    monkeypatch.setattr(cue_cache, "FORMAT", cue_cache.FORMAT + 1)
    assert cue_cache.key_of("tables") != before
