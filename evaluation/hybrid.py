"""The proposed *More like this*: augmented-vector cosine blended with BM25, as the engine would.

    score(q, d) = blend * cos(v'_q, v'_d) + (1 - blend) * bm25_sim(q, d)

over the ``candidates`` nearest articles by ``cos(v'_q, v'_d)``, where ``v'`` are the
neighbourhood-augmented vectors of :mod:`recommender.neighbourhood` and ``bm25_sim`` the BM25
similarity of :mod:`recommender.bm25`. The engine does not do this yet; this scorer measures what it
would give, so the change can be judged before it is made. The defaults were chosen on Reuters
TRAIN-split sources only (see ``evaluation/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.corpus import Corpus
from recommender.bm25 import Bm25Index
from recommender.neighbourhood import augment_vectors, hybrid_neighbours

__all__ = ["HybridConfig", "HybridScorer"]


@dataclass(frozen=True, slots=True)
class HybridConfig:
    """Parameters of the proposed *More like this* (tuned on Reuters TRAIN sources)."""

    blend: float = 0.7
    neighbours: int = 30
    beta: float = 4.0
    neighbour_blend: float = 0.3
    candidates: int = 200


class HybridScorer:
    """Scores like the proposed engine: candidates from the augmented index, then the blend."""

    name = "more_like_this_hybrid"

    def __init__(self, corpus: Corpus, config: HybridConfig | None = None) -> None:
        """Build the BM25 index and augmented vectors of ``corpus``."""
        self.config = config or HybridConfig()
        self.bm25 = Bm25Index(corpus.texts)
        rows = hybrid_neighbours(
            corpus.vectors,
            self.bm25,
            neighbours=min(self.config.neighbours, len(corpus) - 1),
            blend=self.config.neighbour_blend,
        )
        self.vectors = augment_vectors(corpus.vectors, rows, self.config.beta)

    def scores(self, source_rows: np.ndarray) -> np.ndarray:
        """Blended scores of each source's candidates; ``-inf`` for articles not retrieved."""
        cosine = self.vectors[source_rows] @ self.vectors.T
        out = np.full(cosine.shape, -np.inf, dtype=np.float32)
        pool = min(self.config.candidates + 1, cosine.shape[1])
        for i, row in enumerate(source_rows.tolist()):
            near = np.argpartition(-cosine[i], pool - 1)[:pool]
            near = near[near != row][: self.config.candidates]
            blend = self.config.blend
            out[i, near] = blend * cosine[i, near] + (1 - blend) * self.bm25.similarity(row, near)
        return out
