"""Same-story evidence: what tells a follow-up of this story from another story on the topic.

Two articles of one story share their rare words (names, places, figures), which the lexical
match (BM25 over title and lead, :mod:`recommender.signals.lexical`) measures, and they appear
close in time. Topic-level closeness (the augmented vectors) cannot tell them apart from the
rest of the topic, so *More like this* adds this evidence to its similarity::

    story = lexical * 2 ** (-|t_candidate - t_source| / story_half_life_days)

in [0, 1]. Without a publish time on either side the time factor is left out (the lexical
match alone), so undated archives still find their stories.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recommender.signals.recency import SECONDS_PER_DAY

__all__ = ["story_evidence"]


def story_evidence(
    lexical: npt.NDArray[np.float32],
    candidate_ts: npt.NDArray[np.float64],
    source_ts: float,
    *,
    half_life_days: float,
) -> npt.NDArray[np.float32]:
    """Each candidate's same-story evidence, in [0, 1] (formula in the module docstring).

    Args:
        lexical: the candidates' lexical match with the source, about [0, 1].
        candidate_ts: their publish times in epoch seconds (NaN when unknown).
        source_ts: the source's publish time (NaN when unknown, or now for a draft).
        half_life_days: days apart at which the evidence halves.
    """
    words = np.clip(lexical, 0.0, 1.0).astype(np.float32)
    if not np.isfinite(source_ts):
        return words
    delta_days = np.abs(candidate_ts - source_ts) / SECONDS_PER_DAY
    fade = np.where(np.isfinite(delta_days), np.exp2(-delta_days / half_life_days), 1.0)
    return (words * fade).astype(np.float32)
