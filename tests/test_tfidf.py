"""The extractive summary's NumPy TF-IDF (bot/summary/tfidf.py) equals scikit-learn's TfidfVectorizer with the
settings it replaced, on the bundled real threads and on a thread past the feature limit; and making an offline
summary no longer imports scikit-learn or SciPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.errors import InputError
from bot.summary.exports import load_export
from bot.summary.tfidf import tfidf
from bot.text.clean import quote

DATA = Path(__file__).parent / "data"
THREADS = sorted(DATA.glob("real/*/*.json")) + sorted(DATA.glob("summary_*.json"))


def texts_of(path: Path) -> list[str]:
    try:
        _, posts = load_export(path)
    except InputError:  # exports with no text at all
        return []
    return [quote(p.text) for p in posts if p.text.strip()]


def assert_same(texts: list[str], max_features: int) -> None:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=max_features)
    expected = vec.fit_transform(texts).toarray()
    m = tfidf(texts, max_features=max_features)
    got = np.zeros((m.n_rows, m.n_cols))
    got[m.rows, m.indices] = m.data
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-12)
    v = np.linspace(0.5, 1.5, len(texts))
    np.testing.assert_allclose(m.dot(m.tdot(v)), expected @ (expected.T @ v), atol=1e-9)


@pytest.mark.parametrize("path", THREADS, ids=lambda p: p.name)
def test_equal_to_scikit_learn_on_the_bundled_threads(path: Path):
    texts = texts_of(path)
    if not texts:
        pytest.skip(f"{path.name} has no text")
    assert_same(texts, 60_000)


def test_equal_past_the_feature_limit():
    texts = [f"message {i}: the q{i % 7} quant of model-{i * 7919 % 1000} runs at {i % 90} tok/s" for i in range(300)]
    assert_same(texts, 200)


def test_empty_vocabulary_is_a_value_error():
    with pytest.raises(ValueError):
        tfidf(["", " \n "])


def test_an_offline_summary_imports_neither_scikit_learn_nor_scipy():
    code = (
        "import sys; from datetime import datetime; from bot.models import Post; "
        "from bot.summary.extractive import extractive_summary; "
        "posts = [Post('discord', str(i), 't', 'u', 'u', f'message {i} about quants', datetime(2026, 1, 1)) "
        "for i in range(30)]; extractive_summary(posts, thread_id='t'); "
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
