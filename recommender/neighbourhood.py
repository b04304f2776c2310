"""Neighbourhood-augmented vectors: each article's vector pulled towards its closest articles.

    v'_i = normalise(v_i + beta * mean_{j in N(i)} v_j)

``N(i)`` are the ``m`` articles closest to ``i`` by the hybrid similarity
``blend * cos(v_i, v_j) + (1 - blend) * bm25_sim(i, j)`` (see :mod:`recommender.bm25`),
searched among the ``pool`` nearest by cosine. This is database-side augmentation (Arandjelović
& Zisserman, 2012; Radenović et al., 2018): articles of one topic share neighbours, so their
augmented vectors move together and the cosine of ``v'`` ranks same-topic articles higher. It
needs no labels, only the catalogue, and is computed once when the index is built.
"""

from __future__ import annotations

import numpy as np

from recommender.bm25 import Bm25Index

__all__ = ["augment_vectors", "hybrid_neighbours"]

_BATCH = 512


def hybrid_neighbours(
    vectors: np.ndarray,
    bm25: Bm25Index,
    *,
    neighbours: int,
    blend: float,
    pool: int = 200,
) -> np.ndarray:
    """Rows of the ``neighbours`` closest articles of each article (itself excluded).

    Raises:
        ValueError: sizes that do not fit (``neighbours`` >= number of articles, ``blend``
            outside [0, 1], vectors and BM25 index of different lengths).
    """
    n = vectors.shape[0]
    if len(bm25) != n:
        raise ValueError(f"{n} vectors but {len(bm25)} BM25 rows")
    if not 1 <= neighbours < n:
        raise ValueError(f"neighbours must be in [1, {n}), got {neighbours}")
    if not 0.0 <= blend <= 1.0:
        raise ValueError(f"blend must be in [0, 1], got {blend}")
    pool = min(max(pool, neighbours + 1), n)
    out = np.empty((n, neighbours), dtype=np.int64)
    for start in range(0, n, _BATCH):
        rows = np.arange(start, min(start + _BATCH, n))
        cosine = vectors[rows] @ vectors.T
        cosine[np.arange(len(rows)), rows] = -np.inf
        near = np.argpartition(-cosine, pool - 1, axis=1)[:, :pool]
        for i, row in enumerate(rows.tolist()):
            cands = near[i][near[i] != row]
            score = blend * cosine[i, cands] + (1 - blend) * bm25.similarity(row, cands)
            best = np.argsort(-score, kind="stable")[:neighbours]
            out[row] = cands[best]
    return out


def augment_vectors(vectors: np.ndarray, neighbour_rows: np.ndarray, beta: float) -> np.ndarray:
    """``normalise(v_i + beta * mean of the neighbours' vectors)`` for every row, float32.

    Raises:
        ValueError: negative ``beta`` or neighbour rows of another length.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if neighbour_rows.shape[0] != vectors.shape[0]:
        raise ValueError("one neighbour row per vector is needed")
    augmented: np.ndarray = vectors + beta * vectors[neighbour_rows].mean(axis=1)
    norms = np.linalg.norm(augmented, axis=1, keepdims=True)
    unit: np.ndarray = (augmented / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
