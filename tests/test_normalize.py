"""detect_language's shortcut for plainly English text must never change an answer: checked on every labelled real
text bundled in bot/data (1,842 texts in 17 languages, written by others; provenance in bot/data/README.md)."""

from __future__ import annotations

from bot.framing.bundled import chatter_items, framing_items
from bot.text import normalize
from bot.text.normalize import detect_language


def _bundled_texts() -> list[str]:
    return [item.text for item in framing_items() + chatter_items()]


def test_the_english_shortcut_changes_no_answer_on_real_text():
    texts = _bundled_texts()
    shortcut = [t for t in texts if normalize._plainly_english(t)]
    assert len(texts) > 1800 and len(shortcut) > 900  # most English posts skip loading the model
    identifier = normalize._identifier()
    for text in shortcut:
        lang, confidence = identifier.classify(text)
        assert lang == "en" or confidence < normalize.MIN_CONFIDENCE, text


def test_other_languages_still_reach_the_model():
    assert detect_language("La carrera de la inteligencia artificial la va a ganar China, y Europa mira.") == "es"
    assert detect_language("Deutschland verliert das Rennen um die künstliche Intelligenz gegen China.") == "de"
    assert detect_language("We must beat China in the AI race before it is too late.") is None
