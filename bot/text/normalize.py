"""Language-light text normalisation shared by retrieval, claim matching and verification.

Posts arrive in many languages. Latin-script words are casefolded and stripped of accents; CJK text has no spaces,
so it is cut into overlapping character bigrams, the usual trick for BM25 over Chinese/Japanese without a
segmenter.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from bot.text import programs

CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = programs.compile(f"[{CJK_CLASS}]+")
_TOKEN = programs.compile(f"[{CJK_CLASS}]+|(?:(?![{CJK_CLASS}])[^\\W_])+")
_KANA = programs.compile("[\u3040-\u30ff]")
_HANGUL = programs.compile("[\uac00-\ud7af]")

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
    if text.isascii():  # NFKC, NFD and NFC leave ASCII as it is: the common case costs nothing
        return text
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
    if letters < MIN_LETTERS or _plainly_english(text):
        return None
    lang, confidence = _identifier().classify(text)
    if lang == "en" or confidence < MIN_CONFIDENCE:
        return None
    return str(lang)


# Plain-ASCII text with English function words and (nearly) none of the other Latin-script languages' is answered
# without py3langid, whose model costs about 0.5 s and 100 MB to load. Measured on the 1,842 labelled real texts in
# bot/data: 1,047 skip the model and not one answer changes (tests/test_normalize.py keeps that check).
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "these",
        "those",
        "will",
        "would",
        "can",
        "could",
        "should",
        "not",
        "no",
        "we",
        "you",
        "they",
        "he",
        "she",
        "i",
        "my",
        "our",
        "your",
        "their",
        "as",
        "at",
        "by",
        "from",
        "but",
        "if",
        "so",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "what",
        "which",
        "who",
        "how",
        "why",
        "about",
        "than",
        "then",
        "there",
        "here",
        "just",
        "also",
        "more",
        "most",
        "very",
    ]
)
_OTHER_LATIN = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "que",
        "de",
        "del",
        "y",
        "en",
        "es",
        "un",
        "una",
        "por",
        "para",
        "con",
        "no",
        "se",
        "al",
        "lo",
        "como",
        "pero",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "mit",
        "auf",
        "zu",
        "den",
        "dem",
        "des",
        "von",
        "le",
        "les",
        "et",
        "est",
        "une",
        "pour",
        "dans",
        "pas",
        "qui",
        "du",
        "au",
        "sur",
        "ne",
        "o",
        "os",
        "as",
        "um",
        "uma",
        "com",
        "em",
        "do",
        "da",
        "dos",
        "das",
        "il",
        "che",
        "di",
        "e",
        "per",
        "non",
        "sono",
        "gli",
    ]
)
_WORD = programs.compile(r"[a-z']+")


def _plainly_english(text: str) -> bool:
    if not text.isascii():
        return False
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER_LATIN for w in words)
    return len(words) >= 4 and english >= 2 and english >= 3 * other


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
