"""TF-IDF over character n-grams in NumPy alone: what the extractive summary needs from scikit-learn, without
importing scikit-learn and SciPy (about 60 MB of memory and a second or more of start-up for every process that
makes an offline summary).

It reproduces `TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=...)`:
lower-cased text, n-grams taken inside each whitespace-separated word padded with one space on each side, columns
in alphabetical order, the `max_features` most frequent kept (same ordering, same tie-breaking), tf = 1 + ln(count),
smoothed idf = ln((1 + n) / (1 + df)) + 1, rows scaled to unit length. tests/test_summarize_offline.py checks it
against scikit-learn on the bundled threads.

The matrix is kept in CSR form (indptr, indices, data) and only multiplied by vectors, with `np.bincount`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, lo: int = 3, hi: int = 5) -> list[str]:
    """scikit-learn's char_wb analyzer, step for step (a word shorter than n counts once, as itself)."""
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[:n])
            while offset + n < size:
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:
                break
    return out


@dataclass(frozen=True)
class Matrix:
    """Rows of unit length in CSR form; `rows` repeats each row's index for each of its entries."""

    n_rows: int
    n_cols: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    rows: np.ndarray

    def dot(self, v: np.ndarray) -> np.ndarray:
        """X @ v"""
        return np.bincount(self.rows, weights=self.data * v[self.indices], minlength=self.n_rows)

    def tdot(self, v: np.ndarray) -> np.ndarray:
        """Xᵀ @ v"""
        return np.bincount(self.indices, weights=self.data * v[self.rows], minlength=self.n_cols)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b], self.data[a:b]

    def cosines(self, i: int, others: list[int]) -> np.ndarray:
        """Row i against each of `others` (rows have unit length)."""
        dense = np.zeros(self.n_cols)
        cols, vals = self.row(i)
        dense[cols] = vals
        return np.array([float(self.row(j)[1] @ dense[self.row(j)[0]]) for j in others])


def tfidf(texts: list[str], *, max_features: int | None = None) -> Matrix:
    """Raises ValueError when no text has an n-gram (as scikit-learn does: an empty vocabulary)."""
    counts = [Counter(char_wb_ngrams(t)) for t in texts]
    vocabulary = sorted({g for c in counts for g in c})
    if not vocabulary:
        raise ValueError("empty vocabulary")
    column = {g: j for j, g in enumerate(vocabulary)}
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(c) for c in counts])
    indices = np.fromiter((column[g] for c in counts for g in c), dtype=np.int64, count=int(indptr[-1]))
    raw = np.fromiter((n for c in counts for n in c.values()), dtype=np.float64, count=int(indptr[-1]))
    if max_features is not None and len(vocabulary) > max_features:
        totals = np.bincount(indices, weights=raw, minlength=len(vocabulary))
        keep = np.zeros(len(vocabulary), dtype=bool)
        keep[(-totals).argsort()[:max_features]] = True  # scikit-learn's own selection, ties included
        new_index = np.cumsum(keep) - 1
        kept = keep[indices]
        row_of = np.repeat(np.arange(len(texts)), np.diff(indptr))[kept]
        indices, raw = new_index[indices[kept]], raw[kept]
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(row_of, minlength=len(texts)))
        n_cols = int(keep.sum())
    else:
        n_cols = len(vocabulary)
    return _weighted(len(texts), n_cols, indptr, indices, raw)


def _weighted(n: int, n_cols: int, indptr: np.ndarray, indices: np.ndarray, raw: np.ndarray) -> Matrix:
    rows = np.repeat(np.arange(n), np.diff(indptr))
    df = np.bincount(indices, minlength=n_cols)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    data = (1.0 + np.log(raw)) * idf[indices]
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    data = data / np.where(norms > 0, norms, 1.0)[rows]
    return Matrix(n, n_cols, indptr, indices, data, rows)
