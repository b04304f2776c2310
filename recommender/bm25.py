"""BM25 similarity between articles: the term-matching half of the proposed *More like this*.

Embeddings find articles about the same kind of thing; shared rare terms (names, commodities,
companies) find articles about the same thing. On Reuters-21578 (labels protocol, tuned on
TRAIN sources) blending the two beat either alone; see ``evaluation/README.md``.

    bm25(q, d) = sum over distinct terms t of q of
                 idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)     = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    bm25_sim(q, d) = bm25(q, d) / bm25(q, q)       (the source's match with itself is 1)

Normalising by the source's self-match puts the score on the scale of a cosine (the source
matches itself best for 98% of Reuters stories), so it blends with the embedding cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

__all__ = ["Bm25Index"]


class Bm25Index:
    """BM25 weights of a fixed list of texts, addressed by row (the caller maps ids to rows)."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        """Index ``texts`` (row ``i`` is ``texts[i]``).

        Raises:
            ValueError: ``k1`` negative, ``b`` outside [0, 1], or no text with a usable term.
        """
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        vectorizer = CountVectorizer(stop_words="english", dtype=np.float32)
        try:
            counts: Any = vectorizer.fit_transform(texts).tocsr()
        except ValueError as exc:  # scikit-learn's "empty vocabulary"
            raise ValueError(f"no indexable term in {len(texts)} texts") from exc
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()), 1e-9))
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        weights = counts.copy()
        tf = weights.data
        weights.data = (tf * (k1 + 1) / (tf + norm[rows]) * idf[weights.indices]).astype(np.float32)
        self._weights: Any = weights
        self._queries: Any = counts.sign().astype(np.float32).tocsr()
        self._self = np.asarray(self._queries.multiply(weights).sum(axis=1)).ravel()

    def __len__(self) -> int:
        return int(self._weights.shape[0])

    def similarity(self, source_row: int, candidate_rows: np.ndarray) -> np.ndarray:
        """``bm25_sim(source, candidate)`` for each candidate row, float32, about [0, 1].

        Raises:
            IndexError: a row outside the index.
        """
        n = len(self)
        if not 0 <= source_row < n or (
            candidate_rows.size and (candidate_rows.min() < 0 or candidate_rows.max() >= n)
        ):
            raise IndexError(f"rows must be in [0, {n}), got source {source_row}")
        query = self._queries[source_row]
        scores = np.asarray((self._weights[candidate_rows] @ query.T).todense()).ravel()
        return (scores / max(float(self._self[source_row]), 1e-9)).astype(np.float32)

    def similarity_rows(self, source_rows: np.ndarray) -> np.ndarray:
        """``bm25_sim(source, d)`` for every indexed ``d``, one row per source (for batches)."""
        scores = np.asarray((self._queries[source_rows] @ self._weights.T).todense())
        out: np.ndarray = scores / np.maximum(self._self[source_rows], 1e-9)[:, None]
        return out.astype(np.float32)
