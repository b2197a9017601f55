"""The citation library: the shipped file, validation errors, retrieval across languages, moderator additions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.counterpoint.library import Library, is_http_url
from bot.errors import ConfigError
from bot.models import Source
from bot.settings import resource_path
from bot.store import Store
from bot.text.normalize import detect_language, tokenize

LIBRARY = resource_path("config/sources.toml")
REFERENCE = Path(__file__).resolve().parent / "data" / "verified_sources.jsonl"  # provenance: data/real/PROVENANCE.md


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(LIBRARY)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


THEMES = """
[themes.open_vs_closed]
title = "Open vs closed"
paragraph = "Open and closed models differ more than countries do."
sources = ["a"]
keywords = ["open"]
"""


def source(sid: str = "a", url: str = "https://example.org/a", **over: str) -> str:
    fields = {"id": sid, "title": "A title", "publisher": "Pub", "date": "2024", "url": url} | over
    body = "".join(f'{k} = "{v}"\n' for k, v in fields.items() if v is not None)
    return f'\n[[sources]]\n{body}themes = ["open_vs_closed"]\nfacts = ["A fact."]\n'


# --- the shipped library ---------------------------------------------------------------------------------------


def test_shipped_library_loads_with_every_theme(library: Library) -> None:
    assert len(library) >= 40
    assert set(library.themes) == {
        "open_vs_closed", "open_models_international", "talent_international", "open_is_business_choice",
        "race_rhetoric_lobbying", "shared_research", "origin",
    }  # fmt: skip
    for theme in library.themes.values():
        cited = library.theme_sources(theme.key)
        assert cited, theme.key
        # the offline paragraph cites its first sources: they must carry the theme they support
        assert all(theme.key in s.themes for s in cited), theme.key
        assert len(theme.paragraph.split()) <= 60, theme.key
    assert library.themes["origin"].evidence is False


def test_every_url_in_the_library_comes_from_the_verified_reference(library: Library) -> None:
    verified = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            if entry.get("verified"):
                verified[entry["id"]] = entry["url"]
    assert {s.url for s in library} <= set(verified.values())
    for s in library:
        assert verified[s.id] == s.url, s.id  # exactly as given, query strings included


def test_republished_sources_are_cited_with_via(library: Library) -> None:
    politico = library.get("politico-ai-lobbyists-china-2024")
    assert politico is not None
    assert politico.cite_title == (
        "In DC, a new wave of AI lobbyists gains the upper hand (POLITICO), via The Narrative Matters"
    )
    assert sum(1 for s in library if s.via) >= 5


def test_library_urls_are_http(library: Library) -> None:
    assert all(is_http_url(s.url) for s in library)
    assert library.urls == {s.url for s in library}


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (source("a") + source("a"), ["source #2 (a)", "'id'", "duplicate"]),
        (source("a", url="ftp://example.org/x"), ["source #1 (a)", "'url'", "ftp://example.org/x"]),
        (source("a", url="example.org/x"), ["source #1 (a)", "'url'"]),
        (source("a", url="https://"), ["source #1 (a)", "'url'"]),
        (source("a", title=None), ["source #1 (a)", "'title'", "missing"]),
        (source("a", publisher=""), ["source #1 (a)", "'publisher'"]),
        (source("a", colour="blue"), ["source #1 (a)", "'colour'", "not a known field"]),
        (source("a", id=None), ["source #1", "'id'"]),
        (source("a", id="has space"), ["source #1 (has space)", "'id'"]),
    ],
)
def test_validation_errors_name_the_entry_and_field(tmp_path: Path, body: str, expected: list[str]) -> None:
    path = write(tmp_path, THEMES + body)
    with pytest.raises(ConfigError) as err:
        Library.load(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_unknown_theme_is_named(tmp_path: Path) -> None:
    text = THEMES + source("a").replace('themes = ["open_vs_closed"]', 'themes = ["space_race"]')
    with pytest.raises(ConfigError, match=r"source #1 \(a\): field 'themes' has unknown theme 'space_race'"):
        Library.load(write(tmp_path, text))


def test_theme_naming_an_unknown_source_is_named(tmp_path: Path) -> None:
    text = THEMES.replace('sources = ["a"]', 'sources = ["ghost"]') + source("a")
    with pytest.raises(ConfigError, match=r"theme 'open_vs_closed': field 'sources' names unknown source 'ghost'"):
        Library.load(write(tmp_path, text))


def test_missing_facts_and_empty_themes_are_named(tmp_path: Path) -> None:
    text = THEMES + source("a").replace('facts = ["A fact."]', "facts = []")
    with pytest.raises(ConfigError, match=r"source #1 \(a\): field 'facts'"):
        Library.load(write(tmp_path, text))


def test_file_level_errors_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Library.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Library.load(write(tmp_path, "[[sources]\nid = "))
    with pytest.raises(ConfigError, match="no \\[themes"):
        Library.load(write(tmp_path, source("a")))


def test_a_parsed_library_is_reused_while_its_file_is_unchanged(tmp_path: Path, monkeypatch) -> None:
    import tomllib

    from bot import settings

    monkeypatch.setattr(settings, "user_cache_dir", lambda: tmp_path / "cache")
    shipped = resource_path("config/sources.toml")
    first = settings.read_toml(shipped, "Source library", cached=True)
    assert first == tomllib.loads(shipped.read_text(encoding="utf-8"))
    [kept] = (tmp_path / "cache").glob("toml-*.json")
    calls: list[int] = []
    monkeypatch.setattr(settings.tomllib, "loads", lambda text: calls.append(1) or {})
    assert settings.read_toml(shipped, "Source library", cached=True) == first and calls == []  # from the cache
    # an edit is a new key: parsed again; a corrupt cache file is parsed again, silently
    edited = write(tmp_path, THEMES + source("a"))
    assert settings.read_toml(edited, cached=True) == {} and calls == [1]
    kept.write_text('{"sources": [', encoding="utf-8")
    assert settings.read_toml(shipped, cached=True) == {} and calls == [1, 1]


def test_toml_the_cache_cannot_hold_is_parsed_every_time(tmp_path: Path, monkeypatch) -> None:
    from bot import settings

    monkeypatch.setattr(settings, "user_cache_dir", lambda: tmp_path / "cache")
    dated = write(tmp_path, "when = 2026-01-02\n[t]\nat = 10:30:00\n")
    data = settings.read_toml(dated, cached=True)
    assert str(data["when"]) == "2026-01-02" and str(data["t"]["at"]) == "10:30:00"
    assert not list((tmp_path / "cache").glob("toml-*.json"))
    (tmp_path / "latin1.toml").write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        settings.read_toml(tmp_path / "latin1.toml", cached=True)
    with pytest.raises(ConfigError, match="is a folder"):
        settings.read_toml(tmp_path, cached=True)


def test_template_opener_is_optional_and_checked(tmp_path: Path, library: Library) -> None:
    assert library.opener_for("zh") != library.opener_for(None) != ""
    assert library.opener_for("it") == library.opener_for(None)  # no Italian opener: the default
    bad = '[template]\nopener = "Hi"\ngreeting = "Hello"\n' + THEMES + source("a")
    with pytest.raises(ConfigError, match=r"\[template\]: field 'greeting' is not a known field"):
        Library.load(write(tmp_path, bad))


def test_a_minimal_valid_library_loads(tmp_path: Path) -> None:
    lib = Library.load(write(tmp_path, THEMES + source("a", via="Mirror")))
    only = lib.get("a")
    assert only is not None and only.cite_title == "A title (Pub), via Mirror"
    assert lib.opener_for(None) == ""
    assert lib.retrieve("anything at all", 3) == [only]


# --- retrieval -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "theme"),
    [
        ("The US must win the AI arms race against China or we lose everything.", "race_rhetoric_lobbying"),
        ("China is only six months behind America in AI, they are catching up fast.", "open_vs_closed"),
        ("Chinese researchers are taking over American labs, we need to ban them.", "talent_international"),
        ("DeepSeek just copied American research, the whole architecture was stolen.", "shared_research"),
        ("Chinese labs will stay open source forever, it's their national strategy.", "open_is_business_choice"),
        ("中美之间的AI军备竞赛，美国必须赢", "race_rhetoric_lobbying"),
        ("美国的AI实验室里到处都是中国人才和研究人员", "talent_international"),
        ("中国的模型已经追上美国了，差距只有几个月", "open_vs_closed"),
        ("Only the US and China matter, Europe has no chance at frontier models.", "open_models_international"),
    ],
)
def test_retrieve_finds_sources_on_the_posts_theme(library: Library, post: str, theme: str) -> None:
    found = library.retrieve(post, 3)
    assert len(found) == 3
    assert len({s.id for s in found}) == 3
    assert any(theme in s.themes for s in found), [s.id for s in found]
    assert library.rank_themes(post, retrieved=found)[0] in {theme, *found[0].themes}


def test_retrieve_keeps_the_axis_and_never_cites_context_only_sources(library: Library) -> None:
    for post in ("We must beat China.", "中国必胜", "", "lorem ipsum dolor"):
        found = library.retrieve(post, 3)
        assert any("open_vs_closed" in s.themes for s in found), post
        assert all("origin" not in s.themes for s in found)
    assert library.retrieve("We must beat China.", 1)[0] is not None
    assert library.retrieve("We must beat China.", 0) == []


def test_cues_from_the_detector_steer_retrieval(library: Library) -> None:
    plain = library.rank_themes("They are ahead of us.")
    cued = library.rank_themes("They are ahead of us.", cues=("talent", "researchers"))
    assert cued[0] == "talent_international"
    assert plain[0] != "talent_international"


def test_retrieval_is_fast(library: Library) -> None:
    posts = ["The AI race with China decides the century.", "中美AI竞赛谁会赢", "Open models from China are close."]
    start = time.perf_counter()
    for i in range(300):
        library.retrieve(posts[i % 3], 3)
    assert (time.perf_counter() - start) / 300 < 0.02  # per post, on a shared 2-core machine


def test_each_source_document_is_its_text_and_its_themes_words_tokenized_together(library: Library) -> None:
    # the ranker tokenizes a theme's words once and appends them to each source's own tokens: the documents must be
    # exactly what tokenizing everything joined by spaces gives
    ranker = library._ranker
    assert ranker._sources
    for source in ranker._sources:
        parts = [source.title, source.publisher, *source.facts]
        for key in source.themes:
            if key in ranker._themes:
                parts += [ranker._themes[key].title, *ranker._themes[key].keywords]
        assert ranker._document(source) == (tokenize(" ".join(parts)) or ["_"]), source.id


def test_tokenizer_is_multilingual() -> None:
    assert tokenize("Ｍodèles OUVERTS") == ["modele", "ouvert"]
    assert tokenize("军备竞赛") == ["军备", "备竞", "竞赛"]
    assert tokenize("AI竞赛 the US") == ["ai", "竞赛", "us"]
    assert detect_language("中国的人工智能发展很快") == "zh"
    assert detect_language("日本のAIモデルは") == "ja"
    assert detect_language("The race is on") is None


# --- moderator additions ---------------------------------------------------------------------------------------


def extra(sid: str = "mod-europe-ai", url: str = "https://example.eu/report", **over: object) -> Source:
    values: dict = {
        "id": sid, "title": "European open model report", "publisher": "Example EU", "date": "2026", "url": url,
        "themes": ("open_models_international",), "facts": ("Zorblax, a European lab, released open weights.",),
        "added_by": "mod#1",
    } | over  # fmt: skip
    return Source(**values)


def test_with_extra_adds_moderator_sources_and_keeps_the_original(library: Library) -> None:
    merged = library.with_extra([extra()])
    assert len(merged) == len(library) + 1
    assert "mod-europe-ai" not in library and "mod-europe-ai" in merged
    assert "https://example.eu/report" in merged.urls
    assert "mod-europe-ai" in [s.id for s in merged.retrieve("Zorblax shows Europe releases open weights too", 3)]
    assert "mod-europe-ai" not in [s.id for s in library.retrieve("Zorblax shows Europe releases open weights too", 3)]


def test_with_extra_skips_invalid_and_duplicate_sources(library: Library, caplog: pytest.LogCaptureFixture) -> None:
    bad = [
        extra("dup", url="https://example.eu/1"),
        extra("dup", url="https://example.eu/2"),
        extra("bad-url", url="javascript:alert(1)"),
        extra("bad-theme", themes=("moon_landing",)),
        extra("epoch-open-closed-gap-2026"),
    ]
    merged = library.with_extra(bad)
    assert len(merged) == len(library) + 1
    assert merged.get("dup") is not None and merged.get("dup").url == "https://example.eu/1"  # type: ignore[union-attr]
    assert "javascript:alert(1)" not in merged.urls
    assert "skipping moderator source" in caplog.text


def test_validate_source_explains_the_problem(library: Library) -> None:
    with pytest.raises(ConfigError, match=r"moderator source \(x\): field 'url'"):
        library.validate_source(extra("x", url="not a url"))
    with pytest.raises(ConfigError, match="already used"):
        library.validate_source(extra("qwen3-readme"))


async def test_sources_stored_by_moderators_join_the_library(library: Library, tmp_path: Path) -> None:
    async with Store.open(tmp_path / "db.sqlite3") as store:
        await store.add_source(extra())
        merged = library.with_extra(await store.list_sources())
    added = merged.get("mod-europe-ai")
    assert added is not None and added.added_by == "mod#1"
