"""bot/counterpoint/bm25.py gives the very scores rank_bm25's BM25Okapi gives (same floats, not just the same
order), on the shipped library's documents and every post of the bundled framing set."""

from __future__ import annotations

import json

import pytest

from bot.counterpoint.bm25 import BM25Okapi
from bot.counterpoint.library import Library
from bot.framing.bundled import DATA_DIR
from bot.settings import packaged_config_dir
from bot.text.normalize import tokenize

rank_bm25 = pytest.importorskip("rank_bm25")


def test_same_scores_as_rank_bm25_on_the_library_and_the_framing_set():
    library = Library.load(packaged_config_dir() / "sources.toml")
    ranker = library._ranker
    docs = [ranker._document(s) for s in ranker._sources]
    ours, theirs = BM25Okapi(docs), rank_bm25.BM25Okapi(docs)
    lines = (DATA_DIR / "framing.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [list(dict.fromkeys(tokenize(json.loads(line)["text"]))) for line in lines if line.strip()]
    assert len(queries) > 500
    for query in queries:
        assert ours.get_scores(query) == [float(x) for x in theirs.get_scores(query)]


def test_small_corpora_and_negative_idf():
    docs = [["open", "model"], ["open", "weights", "open"], ["open"], ["closed", "model"]]
    ours, theirs = BM25Okapi(docs), rank_bm25.BM25Okapi(docs)
    for query in (["open"], ["model", "closed"], ["nothing"], []):
        assert ours.get_scores(query) == [float(x) for x in theirs.get_scores(query)]
