"""Language-light text normalisation shared by retrieval, claim matching and verification.

Posts arrive in many languages. Latin-script words are casefolded and stripped of accents; CJK text has no spaces,
so it is cut into overlapping character bigrams, the usual trick for BM25 over Chinese/Japanese without a
segmenter.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_TOKEN = re.compile(f"[{CJK_CLASS}]+|(?:(?![{CJK_CLASS}])[^\\W_])+")
_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7af]")

# very common words carry no topic; BM25's idf would mostly ignore them, but they also inflate claim similarity
_STOPWORD_TEXT = """
    a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it
    its just me more most my no not of on or our she so than that the their them then there these they this those to
    too was we were what when which who will with would you your
    der die das und ist nicht ein eine zu den mit von el la los las y es un una que de en le les et est des du une
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def strip_accents(text: str) -> str:
    """NFKC first (full-width letters become ASCII), then drop combining marks; Hangul is recomposed by NFC."""
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def normalize(text: str) -> str:
    return strip_accents(text.casefold())


def _stem(word: str) -> str:
    # a light plural fold so "models" meets "model"; nothing language-specific beyond that
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Casefolded, accent-free tokens: Latin words (lightly stemmed) and CJK character bigrams."""
    out: list[str] = []
    for match in _TOKEN.finditer(normalize(text)):
        run = match.group()
        if _CJK_RUN.fullmatch(run):
            out.extend(cjk_bigrams(run))
        elif (len(run) > 1 or run.isdigit()) and (keep_stopwords or run not in STOPWORDS):
            out.append(_stem(run))
    return out


def cjk_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def cjk_count(text: str) -> int:
    return sum(len(m.group()) for m in _CJK_RUN.finditer(text))


# languages with vetted paragraphs or cue tables; the identifier only chooses among these
LANGUAGES = ("en", "es", "de", "fr", "pt", "it", "ja", "zh", "ko", "ru", "ar", "hi", "vi")
MIN_CONFIDENCE = 0.8  # below this (short or mixed posts) the post's language is left open
MIN_LETTERS = 12


def detect_language(text: str) -> str | None:
    """The post's language code when it is not English: zh, ja and ko from their scripts, the others from
    py3langid (a small n-gram model shipped inside the package) restricted to LANGUAGES. None means English or
    "not sure", and then the reply uses English (offline) or the post's language (model)."""
    letters = sum(1 for ch in text if ch.isalpha())
    if letters and cjk_count(text) / letters >= 0.3:
        if _KANA.search(text):
            return "ja"
        if _HANGUL.search(text):
            return "ko"
        return "zh"
    if letters < MIN_LETTERS:
        return None
    lang, confidence = _identifier().classify(text)
    if lang == "en" or confidence < MIN_CONFIDENCE:
        return None
    return str(lang)


@functools.cache
def _identifier() -> Any:
    """Loaded on first use (about a second): commands that never look at a post's language do not pay for it."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


LANGUAGE_NAMES = {
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "ru": "Russian",
    "ar": "Arabic",
    "hi": "Hindi",
    "vi": "Vietnamese",
}
