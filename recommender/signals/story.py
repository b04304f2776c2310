"""Same-story evidence: what tells a follow-up of this story from another story on the topic.

Two articles of one story share their names: the people, companies, places and bodies it is
about (:mod:`recommender.signals.names`). Topic-level closeness (the augmented vectors) cannot
tell them apart from the rest of the topic, so *More like this* adds this evidence to its
similarity::

    story = names * 2 ** (-|t_candidate - t_source| / story_half_life_days)

in [0, 1], where ``names`` is the TF-IDF cosine of the two articles' names. The time factor
applies only when ``story_half_life_days`` is set: on Reuters TRAIN every half-life tried (2 to
30 days) lowered story-level relevance, since a story's background can be months old. Without a
publish time on either side the time factor is left out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recommender.signals.recency import SECONDS_PER_DAY

__all__ = ["story_evidence"]


def story_evidence(
    names: npt.NDArray[np.float32],
    candidate_ts: npt.NDArray[np.float64],
    source_ts: float,
    *,
    half_life_days: float | None,
) -> npt.NDArray[np.float32]:
    """Each candidate's same-story evidence, in [0, 1] (formula in the module docstring).

    Args:
        names: the candidates' names match with the source, in [0, 1].
        candidate_ts: their publish times in epoch seconds (NaN when unknown).
        source_ts: the source's publish time (NaN when unknown, or now for a draft).
        half_life_days: days apart at which the evidence halves; None: time does not count.
    """
    shared = np.clip(names, 0.0, 1.0).astype(np.float32)
    if half_life_days is None or not np.isfinite(source_ts):
        return shared
    delta_days = np.abs(candidate_ts - source_ts) / SECONDS_PER_DAY
    fade = np.where(np.isfinite(delta_days), np.exp2(-delta_days / half_life_days), 1.0)
    return (shared * fade).astype(np.float32)
