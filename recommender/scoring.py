"""The scoring formula of the Related list: the one place it is written down.

    score = w_sim * similarity + w_rec * recency + w_pop * popularity

- ``similarity``: cosine of the candidate's and the source's embeddings, in [-1, 1].
- ``recency``: ``2 ** (-|t_candidate - t_source| / h)``, with ``h`` the half-life for older
  (``recency_half_life_before_days``) or newer (``recency_half_life_after_days``) candidates;
  see :mod:`recommender.recency`.
- ``popularity``: ``min(1, log(1 + count) / log(1 + reference))``, ``reference`` being the 99th
  percentile of the catalogue's counts; see :mod:`recommender.popularity`.

*More like this* ranks by ``similarity`` alone. The weights are settings (``NEWSREC_W_SIM``,
``NEWSREC_W_REC``, ``NEWSREC_W_POP``) and can be overridden per request; each item's parts
``w * component`` add up to its score, which is what ``--explain`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recommender.settings import Settings

__all__ = ["ScoreParts", "Weights", "blend"]


@dataclass(frozen=True, slots=True)
class Weights:
    """The weights of the three signals."""

    similarity: float
    recency: float
    popularity: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        """The weights configured in ``settings``."""
        return cls(settings.w_sim, settings.w_rec, settings.w_pop)

    def overridden(
        self,
        similarity: float | None = None,
        recency: float | None = None,
        popularity: float | None = None,
    ) -> Weights:
        """A copy with the given weights replaced; ``None`` keeps the current one."""
        changes = {
            name: value
            for name, value in (
                ("similarity", similarity),
                ("recency", recency),
                ("popularity", popularity),
            )
            if value is not None
        }
        for name, value in changes.items():
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value}")
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """Per-candidate contributions ``w * component``; they add up to ``total``."""

    similarity: np.ndarray
    recency: np.ndarray
    popularity: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """The blended score of each candidate."""
        return self.similarity + self.recency + self.popularity


def blend(
    similarity: np.ndarray, recency: np.ndarray, popularity: np.ndarray, weights: Weights
) -> ScoreParts:
    """Apply the formula above to arrays of components, one entry per candidate."""
    return ScoreParts(
        similarity=(weights.similarity * similarity).astype(np.float32),
        recency=(weights.recency * recency).astype(np.float32),
        popularity=(weights.popularity * popularity).astype(np.float32),
    )
