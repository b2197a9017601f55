"""`counterpoint calibrate`: a model worse than offline loses, a better one wins, and the choice survives a restart
(a new process reads it from the per-user data folder) and drives `auto`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.__main__ import main
from bot.framing import calibration
from bot.framing.bundled import chatter_items, framing_items
from bot.framing.calibration import Decision, choose
from bot.framing.detector import Detector
from bot.settings import load_settings
from tests.fakes.framing_kit import StubLLM, post_of, threaded_fake_llm


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def says_frames(body: dict[str, Any]) -> dict[str, Any]:
    return {"label": "frames", "confidence": 0.95, "quote": "", "reason": "everything is a race"}


def knows_the_answers(body: dict[str, Any]) -> dict[str, Any]:
    """A model that agrees with the annotator: better than any offline engine can be."""
    gold = {i.text: i.label for i in framing_items() + chatter_items()}
    label = gold.get(post_of(body["messages"]), "other")
    return {"label": label, "confidence": 0.95, "quote": "", "reason": "as labelled"}


def calibrate(responder, monkeypatch, capsys) -> str:
    with threaded_fake_llm(responder) as fake:
        monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", fake.base_url)
        monkeypatch.setenv("COUNTERPOINT_LLM__MAX_RETRIES", "0")
        assert main(["calibrate", "--sample", "120", "--time-budget", "60"]) == 0
    return capsys.readouterr().out


def test_a_model_that_calls_everything_frames_loses_to_offline(monkeypatch, capsys):
    out = calibrate(says_frames, monkeypatch, capsys)
    stored = calibration.load()
    assert stored is not None and stored.engine == "lexical", out
    assert (
        "offline engine decides" in out and stored.figures["llm"]["precision"] < stored.figures["lexical"]["precision"]
    )


def test_a_better_model_wins_and_the_choice_survives_a_restart(monkeypatch, capsys):
    out = calibrate(knows_the_answers, monkeypatch, capsys)
    stored = calibration.load()  # read back from disk, as a restarted bot would
    assert stored is not None and stored.engine in ("llm", "confirm"), out
    assert stored.figures[stored.engine]["f1"] > stored.figures["lexical"]["f1"]
    monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", stored.model.split()[0])
    detector = Detector.from_settings(load_settings(None), StubLLM(says_frames({})))
    assert detector.auto_engine() == stored.engine


async def test_auto_follows_an_offline_choice_and_never_asks_the_model(monkeypatch):
    settings = load_settings(None)
    key = calibration.model_key(settings.llm.base_url, settings.llm.model)
    calibration.save(choose([Decision(True, True, False), Decision(False, False, True)], model=key))
    stub = StubLLM(says_frames({}))
    verdict = await Detector.from_settings(settings, stub).detect("China is winning the AI race against America.")
    assert verdict.engine == "lexical" and verdict.frames and not stub.requests


async def test_a_record_for_another_model_is_ignored(monkeypatch):
    calibration.save(choose([Decision(True, True, False)], model="http://elsewhere/v1 other-model"))
    detector = Detector.from_settings(load_settings(None), StubLLM(says_frames({})))
    # uncalibrated for this model: the model may only confirm offline candidates
    assert detector.calibration is None and detector.auto_engine() == "confirm"


def test_choice_is_never_less_precise_than_offline():
    # the model alone has the best F1 (0.75 against 0.5) but two false fires: offline keeps the decision
    decisions = [Decision(True, True, True), Decision(False, False, True), Decision(False, False, True)]
    decisions += [Decision(True, False, True), Decision(True, False, True)]
    cal = choose(decisions, model="m")
    assert cal.figures["llm"]["f1"] > cal.figures["lexical"]["f1"] and cal.engine == "lexical"
    # the model vetoing an offline false fire is a win that keeps precision
    cal = choose([Decision(True, True, True), Decision(False, True, False), Decision(False, False, False)], model="m")
    assert cal.engine == "confirm" and cal.figures["confirm"]["precision"] == 1.0


def test_doctor_line_names_the_deciding_engine():
    settings = load_settings(None)
    assert "uncalibrated" in calibration.describe(settings)
    key = calibration.model_key(settings.llm.base_url, settings.llm.model)
    calibration.save(choose([Decision(True, True, False)], model=key))
    assert calibration.describe(settings).startswith("auto: the offline engine decides (calibrated on 1")


def test_a_model_that_mostly_fails_stores_nothing(monkeypatch, capsys):
    """Failed calls are no evidence: with most of them failing, the figures would describe the offline engine
    standing in for the model, so calibrate exits 3 with one sentence and keeps no record."""

    def broken(body: dict[str, Any]) -> dict[str, Any]:
        return {"label": "not-a-label"}  # fails the schema, the repair too: the call fails

    with threaded_fake_llm(broken) as fake:
        monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", fake.base_url)
        monkeypatch.setenv("COUNTERPOINT_LLM__MAX_RETRIES", "0")
        assert main(["calibrate", "--sample", "40", "--time-budget", "30"]) == 3
    err = capsys.readouterr().err
    assert "model calls failed" in err and "Traceback" not in err
    assert calibration.load() is None
