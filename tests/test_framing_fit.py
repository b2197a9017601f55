"""The fitted offline engine: the shipped weights, their out-of-sample figures, the prefilter on the bundled data,
and the kinds of mistakes issue 13 lists. Example sentences were written for these tests."""

from __future__ import annotations

import json

import pytest

from bot.framing.bundled import chatter_items, framing_items
from bot.framing.evidence import FEATURES
from bot.framing.lexical import lexical_verdict, prefilter
from bot.framing.weights import WEIGHTS_FILE, load_weights


def test_shipped_weights_cover_every_feature_and_carry_their_cross_validated_figures():
    doc = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert set(doc["weights"]) == set(FEATURES)
    cv = doc["cross_validated"]
    # the targets, measured out of sample (folds grouped by source URL) when the weights were written
    assert cv["headline"]["precision"] >= 0.90 and cv["headline"]["recall"] >= 0.60
    assert cv["chatter"]["false_fire_rate"] <= 0.01
    assert cv["prefilter"]["recall_on_frames"] >= 0.99 and cv["prefilter"]["chatter_pass_rate"] <= 0.05
    assert {"ar", "vi", "ru", "ko", "hi", "en", "zh"} <= set(cv["per_language"])


def test_prefilter_on_the_bundled_data_today():
    """The prefilter has no fitted part, so it can be measured live: a regression in the cue tables shows here."""
    frames = [i for i in framing_items() if i.label == "frames"]
    chatter = [i for i in chatter_items() if not i.targeted and i.label != "frames"]
    assert sum(prefilter(i.text).passed for i in frames) / len(frames) >= 0.99
    assert sum(prefilter(i.text).passed for i in chatter) / len(chatter) <= 0.05
    assert sum(lexical_verdict(i.text).label == "frames" for i in chatter) / len(chatter) <= 0.01


@pytest.mark.parametrize(
    "text",
    [
        "As the AI arms race between Silicon Valley giants heats up, Meta poaches another researcher.",
        "Two Chinese firms, DeepSeek and Moonshot, are battling for China's AI dominance.",
        "Some pundit says the US must win the AI race against China, but I think that's mostly lobbying.",
    ],
)
def test_contests_without_a_national_side_or_dismissed_frames_do_not_fire(text):
    verdict = lexical_verdict(text)
    assert verdict.label != "frames", verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "China will clinch the AI race.",
        "China vs. the United States: the battle for the future of AI",
        "Washington and Beijing are locked in a new Cold War over chips.",
        "الصين تتفوق على الولايات المتحدة في سباق الذكاء الاصطناعي.",
        "Trung Quốc đang vượt Mỹ trong cuộc đua trí tuệ nhân tạo.",
        "Китай обгоняет США в гонке искусственного интеллекта.",
        "미중 AI 패권 경쟁에서 중국이 미국을 추월했다.",
        "चीन एआई की दौड़ में अमेरिका को पीछे छोड़ देगा।",
    ],
)
def test_frames_in_old_and_new_languages_fire_with_a_readable_reason(text):
    verdict = lexical_verdict(text)
    assert verdict.label == "frames", verdict.reason
    assert "(+" in verdict.reason  # the fitted weight of each named feature is shown


def test_the_dismissal_is_named_in_the_reason():
    verdict = lexical_verdict("He says America must beat China in AI, but that's just lobbying.")
    assert verdict.label != "frames" and "dismiss" in verdict.reason


def test_a_reply_borrows_its_countries_from_the_parent():
    alone = lexical_verdict("Exactly, and we're losing it.")
    replied = lexical_verdict("Exactly, and we're losing it.", parent="China is racing the US for AI supremacy.")
    assert not alone.prefilter.passed and replied.prefilter.passed and "parent" in replied.prefilter.cues
    assert "parent post" in replied.reason and replied.score != alone.score


def test_weights_load_once_and_have_a_bias():
    assert load_weights() is load_weights() and isinstance(load_weights().bias, float)
