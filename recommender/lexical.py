"""Lexical similarity: TF-IDF cosine over an article's title and lead.

Embeddings judge meaning; the words two wire stories share (company names, tickers, figures'
subjects) say whether they are about the same thing. Blending the two ranks *More like this*
better than either alone (see the README's figures), so ``similarity`` in
:mod:`recommender.scoring` is ``(1 - lexical_weight) * cosine + lexical_weight * lexical``.

Each article keeps its words' ids and ``1 + log(tf)`` weights; ``idf = log((1 + N) / (1 + df))
+ 1`` is taken from the current document frequencies at query time, so a new article changes
nothing but its own counts. Scoring a few hundred candidates is a handful of array operations.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import numpy.typing as npt

from recommender.terms import words_of

__all__ = ["LEAD_CHARS", "LexicalIndex", "TermVector"]

#: How much of the body, after the title, is read: the lead says what an article is about.
LEAD_CHARS = 600

TermVector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]  # sorted ids, 1 + log(tf)


class LexicalIndex:
    """Word counts of every article, by doc id, and the document frequencies of the words."""

    def __init__(self) -> None:
        """No articles yet."""
        self._lock = threading.Lock()
        self._vocabulary: dict[str, int] = {}
        self._df = np.zeros(1024, dtype=np.float64)
        self._vectors: dict[int, TermVector] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def vector_of_text(self, title: str, body: str, *, learn: bool = False) -> TermVector:
        """The term vector of a text; unknown words are dropped unless ``learn``."""
        counts = Counter(words_of(f"{title}.\n{body[:LEAD_CHARS]}"))
        ids: list[int] = []
        tfs: list[float] = []
        for word, count in counts.items():
            term = self._vocabulary.get(word)
            if term is None and learn:
                term = self._vocabulary[word] = len(self._vocabulary)
            if term is not None:
                ids.append(term)
                tfs.append(count)
        order = np.argsort(ids, kind="stable")
        return (
            np.asarray(ids, dtype=np.int64)[order],
            (1.0 + np.log(np.asarray(tfs, dtype=np.float32)))[order].astype(np.float32),
        )

    def put(self, doc_id: int, title: str, body: str) -> None:
        """Add or replace the words of article ``doc_id``."""
        with self._lock:
            vector = self.vector_of_text(title, body, learn=True)
            self._forget(doc_id)
            if len(self._vocabulary) > len(self._df):
                grown = np.zeros(max(len(self._vocabulary), 2 * len(self._df)))
                grown[: len(self._df)] = self._df
                self._df = grown
            self._df[vector[0]] += 1.0
            self._vectors[doc_id] = vector

    def drop(self, doc_id: int) -> None:
        """Forget article ``doc_id``."""
        with self._lock:
            self._forget(doc_id)

    def _forget(self, doc_id: int) -> None:
        old = self._vectors.pop(doc_id, None)
        if old is not None:
            self._df[old[0]] -= 1.0

    def vector_of(self, doc_ids: npt.NDArray[np.int64]) -> TermVector:
        """The summed term vector of stored articles (one article, or a reader's several)."""
        parts = [self._vectors[d] for d in doc_ids.tolist() if d in self._vectors]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.concatenate([p[0] for p in parts])
        weights = np.concatenate([p[1] for p in parts])
        unique, inverse = np.unique(ids, return_inverse=True)
        return unique, np.bincount(inverse, weights, minlength=len(unique)).astype(np.float32)

    def similarity(
        self, source: TermVector, doc_ids: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """TF-IDF cosine between ``source`` and each article of ``doc_ids`` (0 if unknown)."""
        out = np.zeros(len(doc_ids), dtype=np.float32)
        source_ids, source_tf = source
        if len(doc_ids) == 0 or len(source_ids) == 0:
            return out
        empty: TermVector = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        vectors = [self._vectors.get(d, empty) for d in doc_ids.tolist()]
        lengths = np.fromiter((len(v[0]) for v in vectors), dtype=np.int64, count=len(vectors))
        if lengths.sum() == 0:
            return out
        ids = np.concatenate([v[0] for v in vectors])
        source_w = source_tf * self._idf(source_ids)
        source_w /= max(float(np.linalg.norm(source_w)), 1e-12)
        weights = np.concatenate([v[1] for v in vectors]) * self._idf(ids)
        row = np.repeat(np.arange(len(doc_ids)), lengths)
        norms = np.sqrt(np.bincount(row, weights * weights, minlength=len(doc_ids)))
        place = np.minimum(np.searchsorted(source_ids, ids), len(source_ids) - 1)
        shared = source_ids[place] == ids
        dots = np.bincount(
            row[shared], weights[shared] * source_w[place[shared]], minlength=len(doc_ids)
        )
        out[:] = dots / np.maximum(norms, 1e-12)
        return out

    def _idf(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        df = np.maximum(self._df[ids], 0.0)
        return (np.log((1.0 + len(self._vectors)) / (1.0 + df)) + 1.0).astype(np.float32)
