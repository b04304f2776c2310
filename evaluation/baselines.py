"""Baselines ranked in the same run as newsrec: random, most popular, TF-IDF, BM25, embeddings.

Each baseline is a :class:`Scorer`: given source rows of a :class:`~evaluation.corpus.Corpus`, it
scores every corpus article. :func:`scorer_run` turns scores into top-k lists under a
:class:`~evaluation.candidates.CandidateRule`, in batches so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from evaluation.candidates import CandidateRule
from evaluation.corpus import Corpus
from evaluation.runs import Run, ranked, top_k

__all__ = [
    "Bm25Scorer",
    "EmbeddingScorer",
    "PopularityScorer",
    "RandomScorer",
    "Scorer",
    "TfidfScorer",
    "scorer_run",
]

_BATCH = 256


class Scorer(Protocol):
    """Scores every corpus article for each source row."""

    name: str

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        """``(len(source_rows), len(corpus))`` scores; higher ranks first."""
        ...


class RandomScorer:
    """Uniform random scores, drawn per source from ``(seed, row)``: the floor any method beats."""

    name = "random"

    def __init__(self, size: int, seed: int) -> None:
        """Random rankings over ``size`` articles, reproducible from ``seed``."""
        self._size = size
        self._seed = seed

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        return (
            np.stack(
                [
                    np.random.default_rng([self._seed, int(row)]).random(self._size)
                    for row in source_rows
                ]
            )
            if len(source_rows)
            else np.zeros((0, self._size))
        )


class PopularityScorer:
    """The same list for every source: the most popular articles (ties in catalogue order)."""

    name = "most_popular"

    def __init__(self, popularity: np.ndarray) -> None:
        """Rank by ``popularity`` counts."""
        self._popularity = popularity.astype(np.float64)

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        return np.tile(self._popularity, (len(source_rows), 1))


class TfidfScorer:
    """Cosine of TF-IDF vectors: the term-based "more like this" of search engines.

    Sublinear term frequency, English stop words dropped, l2-normalised rows (scikit-learn).
    """

    name = "tfidf"

    def __init__(self, texts: Sequence[str]) -> None:
        """Fit the vocabulary and idf on the corpus texts (no labels involved)."""
        self.matrix: Any = (
            TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32)
            .fit_transform(texts)
            .tocsr()
        )

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.matrix[source_rows] @ self.matrix.T).todense())


class Bm25Scorer:
    """Okapi BM25 with the source article's distinct terms as the query.

    ``score(q, d) = sum_{t in q} idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| /
    avgdl))`` with ``idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))`` (Robertson & Zaragoza,
    2009; the Lucene variant), computed as one sparse product over scikit-learn's term counts.
    """

    name = "bm25"

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        """Index the corpus texts.

        Raises:
            ValueError: ``k1`` negative or ``b`` outside [0, 1].
        """
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        counts = (
            CountVectorizer(stop_words="english", dtype=np.float32).fit_transform(texts).tocsr()
        )
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        avgdl = float(lengths.mean()) if n else 0.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))
        weights = counts.copy()
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        tf = weights.data
        weights.data = (tf * (k1 + 1) / (tf + norm[rows]) * idf[weights.indices]).astype(np.float32)
        self.weights: Any = weights
        self.queries: Any = counts.sign().astype(np.float32).tocsr()

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        return np.asarray((self.queries[source_rows] @ self.weights.T).todense())


class EmbeddingScorer:
    """Cosine of the stored embedding vectors, with no other signal."""

    name = "embedding"

    def __init__(self, vectors: np.ndarray) -> None:
        """Use unit ``vectors`` (one row per article)."""
        self._vectors = normalize(vectors).astype(np.float32)

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        scores: np.ndarray = self._vectors[source_rows] @ self._vectors.T
        return scores


def scorer_run(
    scorer: Scorer,
    corpus: Corpus,
    source_ids: Sequence[str],
    k: int,
    rule: CandidateRule | None = None,
) -> Run:
    """Top-``k`` lists of ``scorer`` for each source, never holding the source itself.

    Equal scores keep candidate order; the lists are scored by rank (:func:`ranked`).
    """
    rule = rule or CandidateRule()
    run: Run = {}
    rows = corpus.rows(list(source_ids))
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        scores = scorer.scores(batch)
        best = top_k(scores, k, rule.mask(corpus.published_ts, batch))
        for i, row in enumerate(batch.tolist()):
            run[corpus.ids[row]] = ranked([corpus.ids[c] for c in best[i].tolist() if c >= 0])
    return run
