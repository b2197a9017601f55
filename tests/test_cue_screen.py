"""The literal screen in front of the cue regexes (bot/framing/cue_screen.py) changes no result: on every bundled
text the prefilter, the contest cue, the evidence and the lexical verdict are the same with it and without it, and
wherever a family's regex matches, the screen says the family is present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.framing import cue_screen, cues
from bot.framing.cue_tables import TABLES
from bot.framing.cues import Scan, families
from bot.framing.evidence import score_text
from bot.framing.lexical import contest_cue, lexical_verdict, prefilter

ROOT = Path(__file__).resolve().parent.parent
EDGES = [
    "software hardware aware toward forward",
    "war",
    "War!",
    "wars, (war) and 'war'",
    "the warm warning",
    "Technologiewettlauf und KI-Wettlauf",
    "America, americans, AMERICA'S lead",
    "us-china u.s.-china U.S.A. U.S.",
    "中美AI竞赛，美国必须赢",
    "США и Китай: гонка ИИ",
    "Mỹ - Trung, thẩm mỹ",
    "the two great AI superpowers",
    "sino-american sino-",
    "knowledge edge edges edge-cases",
    "",
    "x",
]


def _texts() -> list[tuple[str, str | None]]:
    rows: list[tuple[str, str | None]] = [(t, None) for t in EDGES]
    for path in (ROOT / "bot/data/framing.jsonl", ROOT / "bot/data/chatter.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append((r["text"], r.get("parent")))
    for line in (ROOT / "tests/data/attacks.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append((json.loads(line)["post"], None))
    return rows


TEXTS = _texts()


def _results(monkeypatch: pytest.MonkeyPatch, on: bool) -> list[tuple[object, ...]]:
    monkeypatch.setattr(cues, "_SCREEN_ON", on)
    return [
        (
            prefilter(text),
            contest_cue(text),
            lexical_verdict(text),
            lexical_verdict(text, parent=parent),
            score_text(text, parent=parent),  # the evidence's scans are screened too
        )
        for text, parent in TEXTS
    ]


def test_results_are_the_same_with_and_without_the_screen(monkeypatch: pytest.MonkeyPatch):
    assert len(TEXTS) > 1900
    without = _results(monkeypatch, False)
    with_screen = _results(monkeypatch, True)
    assert with_screen == without


def test_a_family_that_matches_is_always_present():
    """The necessary condition, for every family of the tables (not only the ones the prefilter screens)."""
    names = [*TABLES, "gate", "contest_all"]
    automaton = cue_screen.Automaton(cues._compiled()[1], names, cues.screen().letters)
    assert not automaton.unscreened  # every family has literals to screen with
    fams = families()
    checked = 0
    for text, _parent in TEXTS:
        for keep_lines in (False, True):
            scan = Scan.of(text, keep_lines=keep_lines)
            present = automaton.present(scan.low, scan.is_ascii)
            for name in names:
                family = fams[name]
                matched = family.pick(scan.is_ascii).search(scan.low) or family.full_re.search(scan.low)
                if matched:
                    checked += 1
                    assert present & automaton.bits[name], (name, matched.group(), text)
    assert checked > 10_000


def test_the_screen_is_sharp_on_ordinary_chat():
    """Not a correctness matter, but the point of the screen: most chatter wakes no side family."""
    scans = [Scan.of(t) for t, _ in TEXTS]
    fams = families()
    woken = sum(s.may("gate") for s in scans)
    real = sum(bool(fams["gate"].pick(s.is_ascii).search(s.low)) for s in scans)
    assert real <= woken <= real + len(scans) // 20
    assert not Scan.of("software hardware aware toward").may("contest")
    assert Scan.of("the war.").may("contest")
    assert Scan.of("KI-Wettlauf").may("contest")


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        (r"am[ée]rique", [("amerique", True), ("amérique", True)]),
        (r"u\.s\.(?:a\.)?", [("u.s.", True), ("u.s.a.", True)]),
        (r"the west(?! coast)", [("the west", True)]),
        (r"sino-\w+", [("sino-", False)]),
        (f"sino-[{cues.LETTER}]+", [("sino-", False)]),  # \w as the compiled pattern has it
        (r"race(?<!human race)s?(?! conditions?)", [("race", True), ("races", True)]),
        (r"gan(?:a|ó)", [("gana", True), ("ganó", True)]),
        (r"(?:the |both )?two", [("both two", True), ("the two", True), ("two", True)]),
        (r"glm(?:-?\d[a-z0-9.]*)?", [("glm", False), ("glm-", False)]),
        ("中美两国", [("中美两国", True)]),
        (r"international relations", [("internationa", False)]),  # cut at 12 characters
        (r"[a-zà-ÿ]x", None),  # a class of 100 letters first: nothing to rely on
        (r"\w+ race", None),
        (r"(?i)china", None),
    ],
)
def test_literals(fragment: str, expected: list[tuple[str, bool]] | None):
    assert cue_screen.literals(fragment) == expected


def test_literals_of_an_optional_class():
    found = cue_screen.literals(r"de[nmrs]? westen[s]?")
    assert found is not None and len(found) == 10
    assert ("de westen", True) in found and ("dem westens", True) in found


def test_too_many_variants_stop_early_but_stay_necessary():
    found = cue_screen.literals(r"[ab][cd][ef][gh][ij][kl]x")  # 64 variants
    assert found is not None and all(not complete for _, complete in found)
    assert {len(text) for text, _ in found} == {5}


def test_the_tables_screen_with_their_guards():
    rows = {name: {tuple(r) for r in (rows or [])} for name, rows in cues._screen_sources().items()}
    assert ("wettlauf", False, False) in rows["contest"]  # `~wettlauf\w*`: infix, no word start; cut, no word end
    assert ("rennen", True, True) in rows["contest"]  # a whole word
    assert ("竞赛", False, False) in rows["contest"]  # CJK literal: no guards
    assert ("the west", True, True) in rows["us_noun"] and ("the west", True, True) in rows["gate"]


def test_without_the_private_parser_everything_is_unscreened(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cue_screen, "_parser", None)
    screen = cue_screen.build({"contest": [("war", True, True)], "us_noun": [("america", True, True)]})
    assert screen == {"contest": None, "us_noun": None}
    automaton = cue_screen.Automaton(screen, ["contest", "us_noun"], frozenset())
    assert automaton.present("nothing here", True) == automaton.bits["contest"] | automaton.bits["us_noun"]


def test_without_pyahocorasick_everything_is_unscreened(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cue_screen, "ahocorasick", None)
    automaton = cue_screen.Automaton({"contest": [["war", True, True]]}, ["contest"], frozenset())
    assert automaton.present("nothing here", True) == automaton.bits["contest"]
