"""Recency: measured around the source article (the default), or from now for live pages."""

from __future__ import annotations

import numpy as np

__all__ = ["SECONDS_PER_DAY", "recency_around", "recency_from_now"]

SECONDS_PER_DAY = 86_400.0


def recency_around(
    candidate_ts: np.ndarray,
    source_ts: float,
    *,
    half_life_before_days: float,
    half_life_after_days: float,
) -> np.ndarray:
    """Closeness in publish time between each candidate and the source, in [0, 1].

    ``recency = 2 ** (-|t_candidate - t_source| / h)`` where ``h`` is
    ``half_life_before_days`` for candidates published before the source (background) and
    ``half_life_after_days`` for those after it (follow-ups). A story from March thus gets
    March's background and follow-ups, not whatever is newest today.

    Candidates without a publish time (NaN) score 0; a source without one gives all zeros.
    """
    out = np.zeros(candidate_ts.shape, dtype=np.float32)
    if not np.isfinite(source_ts):
        return out
    delta_days = (candidate_ts - source_ts) / SECONDS_PER_DAY
    known = np.isfinite(delta_days)
    half_life = np.where(delta_days < 0, half_life_before_days, half_life_after_days)
    out[known] = np.exp2(-np.abs(delta_days[known]) / half_life[known])
    return out


def recency_from_now(
    candidate_ts: np.ndarray, now_ts: float, *, half_life_days: float
) -> np.ndarray:
    """Freshness of each candidate for a live page: ``2 ** (-max(0, now - t) / h)``, in [0, 1].

    Used instead of :func:`recency_around` when ``recency_reference`` is ``"now"``; items dated
    in the future count as brand new. Undated candidates score 0.
    """
    out = np.zeros(candidate_ts.shape, dtype=np.float32)
    age_days = np.maximum(now_ts - candidate_ts, 0.0) / SECONDS_PER_DAY
    known = np.isfinite(age_days)
    out[known] = np.exp2(-age_days[known] / half_life_days)
    return out
