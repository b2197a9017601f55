"""The vetted paragraphs (sources.toml in English, paragraphs.toml in other languages): each states only what the
sources it cites say, cites sources in its own language or English, and the offline reply picks them by the claim
and by the post's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.counterpoint.composer import Composer
from bot.counterpoint.library import Library
from bot.errors import ConfigError
from bot.settings import Settings, resource_path
from bot.text.normalize import detect_language

LIBRARY = resource_path("config/sources.toml").resolve()
LANGS = ("es", "de", "fr", "pt", "ja", "zh", "ru", "ko", "ar", "hi", "vi")

# figures: 9,660 / 9.660 / 9 660 are one number; "2.0" and "2,0" too. Months written as numbers in Japanese,
# Chinese and Korean (1月, 1월) name a month, not a figure, and are skipped.
NUMBER = re.compile(r"\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d+)?")
MONTH = re.compile(r"\s*[月월]")
WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fourteen": "14", "twenty": "20",
}  # fmt: skip


def figures(text: str, *, words: bool = False) -> set[str]:
    if words:
        text = re.sub(r"\b(" + "|".join(WORDS) + r")\b", lambda m: WORDS[m.group(1).lower()], text, flags=re.I)
    out = set()
    for match in NUMBER.finditer(text):
        if MONTH.match(text, match.end()):
            continue
        out.add(re.sub(r"[ ,.\u00a0\u202f]", "", match.group()))
    return out


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(LIBRARY)


def every_paragraph(library: Library) -> list[tuple[str, str, str, list[str]]]:
    out = []
    for key, theme in library.themes.items():
        if not theme.evidence:
            continue
        for lang in ("en", *sorted(theme.translations)):
            text, sources = library.paragraph(key, lang)
            out.append((key, lang, text, [s.id for s in sources]))
    return out


def test_every_language_the_detector_reads_has_a_paragraph_for_every_theme(library: Library) -> None:
    for key, theme in library.themes.items():
        if theme.evidence:
            assert set(LANGS) <= set(theme.translations), key
            for lang in LANGS:
                assert library.opener_for(lang) != library.opener_for(None), lang


def test_each_paragraph_states_only_figures_of_the_sources_it_cites(library: Library) -> None:
    checked = 0
    for key, lang, text, ids in every_paragraph(library):
        cited = [library.get(sid) for sid in ids]
        assert all(s is not None and key in s.themes for s in cited), (key, lang)
        known = set().union(*(figures(" ".join((s.title, *s.facts)), words=True) for s in cited if s))
        assert figures(text) <= known, (key, lang, figures(text) - known)
        checked += 1
    assert checked >= 6 * (1 + len(LANGS))


def test_paragraphs_cite_sources_in_their_language_or_english(library: Library) -> None:
    for key, lang, _text, ids in every_paragraph(library):
        for sid in ids:
            source = library.get(sid)
            assert source is not None and source.lang in (lang, "en"), (key, lang, sid)


def test_different_figures_for_one_gap_are_explained_side_by_side(library: Library) -> None:
    """The issue's case: "about four months" next to a source titled "7 Monate", with nothing to say why."""
    for key, lang, text, ids in every_paragraph(library):
        if "epoch-us-china-gap-trendingtopics" in ids and "epoch-open-closed-gap-2026" in ids:
            assert {"7", "4"} <= figures(text), (key, lang)  # both figures are stated, each with what it measures
            assert "2023" in figures(text) and "2026" in figures(text), (key, lang)
    de, _ = library.paragraph("open_vs_closed", "de")
    assert "zwei verschiedene Vergleiche" in de


def test_the_paragraphs_file_is_checked_naming_the_entry_and_field(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(LIBRARY.read_text(encoding="utf-8"), encoding="utf-8")
    bad = '[[paragraphs]]\ntheme = "open_vs_closed"\nlang = "es"\nsources = ["qwen3-readme"]\ntext = "Hola."\n'
    (tmp_path / "paragraphs.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"paragraph #1 \(open_vs_closed, es\): field 'sources' names 'qwen3-readme'"):
        Library.load(tmp_path / "sources.toml")
    (tmp_path / "paragraphs.toml").write_text(bad.replace('text = "Hola."', 'colour = "red"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"paragraph #1 \(open_vs_closed, es\): field '(text|colour)'"):
        Library.load(tmp_path / "sources.toml")


# --- the offline reply ------------------------------------------------------------------------------------------

POSTS = {
    "es": "Estados Unidos tiene que ganar la carrera de la IA contra China, o China dominará el mundo.",
    "de": "Die USA müssen China im KI-Wettlauf schlagen, sonst beherrscht Peking die Zukunft.",
    "fr": "Les États-Unis doivent battre la Chine dans la course à l'IA, sinon Pékin dominera le monde.",
    "pt": "Os EUA precisam vencer a China na corrida da IA, senão Pequim vai dominar o mundo.",
    "ja": "米国は中国とのAI競争に勝たなければならない。負ければ中国が世界を支配する。",
    "zh": "美国必须在人工智能竞赛中打败中国，否则中国将统治世界。",
    "ru": "США должны выиграть гонку ИИ у Китая, иначе Пекин будет править миром.",
    "ko": "미국은 중국과의 AI 경쟁에서 반드시 이겨야 한다. 지면 중국이 세계를 지배한다.",
    "ar": "يجب على أمريكا أن تهزم الصين في سباق الذكاء الاصطناعي وإلا ستحكم بكين العالم.",
    "hi": "अमेरिका को एआई की दौड़ में चीन को हराना ही होगा, वरना चीन दुनिया पर राज करेगा।",
    "vi": "Mỹ phải thắng Trung Quốc trong cuộc đua AI, nếu không Bắc Kinh sẽ thống trị thế giới.",
}


@pytest.mark.parametrize("lang", sorted(POSTS))
async def test_framing_posts_get_counterpoints_in_their_own_language(library: Library, lang: str) -> None:
    post = POSTS[lang]
    assert detect_language(post) == lang
    cp = await Composer.from_settings(Settings(), library).compose(post)
    assert cp.engine == "template" and cp.citations
    first = library.themes[cp.themes[0]].translations[lang].text[:30]
    # the opener in the post's language, or none when two paragraphs leave no room for it
    assert cp.text.startswith(library.opener_for(lang)) or (cp.text.startswith(first) and len(cp.themes) == 2)
    for key in cp.themes:
        assert library.themes[key].translations[lang].text[:30] in cp.text


async def test_three_different_claims_get_different_opening_paragraphs(library: Library) -> None:
    claims = [
        "The US must win the AI race against China, whoever wins controls the future.",
        "Chinese researchers are flooding American AI labs; send them home or China wins.",
        "DeepSeek just copied American research, China stole the whole architecture to beat us.",
        "Only the US and China matter in AI, Europe has no chance at frontier models.",
        "Chinese labs will stay open source forever, it's their national strategy to beat America.",
    ]
    composer = Composer.from_settings(Settings(), library)
    openings = [(await composer.compose(c)).themes[0] for c in claims]
    assert len(set(openings)) == len(claims), openings
    for claim in claims:  # the main point still comes second at worst
        assert "open_vs_closed" in (await composer.compose(claim)).themes[:2], claim
