"""Popularity as a bounded, log-scaled signal, so that one viral story does not flatten the rest."""

from __future__ import annotations

import numpy as np

__all__ = ["log_popularity", "popularity_reference"]


def popularity_reference(counts: np.ndarray, quantile: float = 0.99) -> float:
    """The count that maps to popularity 1.0: a high quantile of the positive counts.

    A quantile rather than the maximum keeps a single viral outlier from squashing every other
    article's popularity towards zero.
    """
    positive = counts[np.isfinite(counts) & (counts > 0)]
    if positive.size == 0:
        return 1.0
    return max(float(np.quantile(positive, quantile)), 1.0)


def log_popularity(counts: np.ndarray, reference: float) -> np.ndarray:
    """``min(1, log(1 + count) / log(1 + reference))`` for each count, in [0, 1]."""
    safe = np.where(np.isfinite(counts) & (counts > 0), counts, 0.0)
    return np.minimum(1.0, np.log1p(safe) / np.log1p(max(reference, 1.0))).astype(np.float32)
