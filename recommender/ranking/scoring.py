"""The scoring formula of the Related list: the one place it is written down.

    relevance = w_sim * similarity + w_rec * recency + w_pop * popularity + w_coread * coread
    score     = relevance - diversity
    diversity = (1 - mmr_lambda) / mmr_lambda * max(0, max cos(item, Related items above it))

- ``similarity``: ``(1 - share) * cosine + share * lexical``, where ``cosine`` is that of the
  candidate's and the source's *augmented* embeddings, in [-1, 1]: each vector pulled towards
  the mean of its ``neighbours`` closest articles, ``v' = normalise(v + augment_beta * mean)``
  (see :mod:`recommender.signals.neighbourhood`); ``lexical`` is BM25 between their titles and leads
  divided by the source's match with itself, about [0, 1] (see :mod:`recommender.signals.lexical`);
  ``share`` is ``related_lexical_weight`` (in *More like this*, ``lexical_weight``).
- ``recency``: ``2 ** (-|t_candidate - t_source| / h)``, with ``h`` the half-life for older
  (``recency_half_life_before_days``) or newer (``recency_half_life_after_days``) candidates;
  with ``recency_reference = "now"`` (live pages) ``2 ** (-age / recency_half_life_now_days)``
  instead; see :mod:`recommender.signals.recency`.
- ``popularity``: the time-decayed count of views and clicks (half-life
  ``popularity_half_life_days``) normalised into [0, 1] (``popularity_normalisation``): by log
  or percentile over every article, or as a percentile among the list's own candidates, never
  below a fading prior for articles too new to have been read; see
  :mod:`recommender.signals.popularity`.
- ``coread``: "readers of this also read", the cosine of the candidate's and the source's
  reader sets in [0, 1), ``pairs / (sqrt(readers_source * readers_candidate) + coread_shrink)``
  over the events that name their reader (each reader's last ``coread_window`` reads pair
  with their next one); 0 when no reader read both, and for a draft. With several sources (a
  reader's reads) it is the mean over them. The ``coread_candidates`` articles most co-read
  with the source join Related's candidates; see :mod:`recommender.signals.coreads`.
- ``diversity``: the penalty of maximal marginal relevance, which picks Related one item at a
  time by the highest ``score``; see :mod:`recommender.ranking.diversity`.

Before scoring, copies of the source and all but one article per story are set aside (see
:mod:`recommender.signals.stories`): each story is shown once, by its best-scoring member, and a
story in *More like this* is not repeated in *Related*. *More like this* ranks by ``similarity``
alone (its score is the similarity). Editorial pins and blocks apply last (see
:mod:`recommender.ranking.overrides`); a pinned item keeps the score of its parts.

The weights are settings (``NEWSREC_W_SIM``, ``NEWSREC_W_REC``, ``NEWSREC_W_POP``,
``NEWSREC_W_COREAD``) and can be overridden per request. ``--explain`` shows each item's parts:
``similarity`` and ``lexical`` (the two halves of ``w_sim * similarity``), ``recency``
(``w_rec * recency``), ``popularity`` (``w_pop * popularity``), ``coread``
(``w_coread * coread``) and ``diversity`` (``-diversity``); in *More like this* the first two
only. Each part is rounded to six decimals and the score is their sum, so the parts add up to
the score exactly as shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recommender.settings import Settings

__all__ = ["ScoreParts", "Weights", "blend"]


@dataclass(frozen=True, slots=True)
class Weights:
    """The weights of the four signals."""

    similarity: float
    recency: float
    popularity: float
    coread: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        """The weights configured in ``settings``."""
        return cls(settings.w_sim, settings.w_rec, settings.w_pop, settings.w_coread)

    def total(self) -> float:
        """The sum of the weights; a blend needs it above 0."""
        return self.similarity + self.recency + self.popularity + self.coread

    def overridden(
        self,
        similarity: float | None = None,
        recency: float | None = None,
        popularity: float | None = None,
        coread: float | None = None,
    ) -> Weights:
        """A copy with the given weights replaced; ``None`` keeps the current one."""
        changes = {
            name: value
            for name, value in (
                ("similarity", similarity),
                ("recency", recency),
                ("popularity", popularity),
                ("coread", coread),
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
    coread: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """The blended score of each candidate."""
        return np.asarray(self.similarity + self.recency + self.popularity + self.coread)


def blend(
    similarity: np.ndarray,
    recency: np.ndarray,
    popularity: np.ndarray,
    weights: Weights,
    coread: np.ndarray | None = None,
) -> ScoreParts:
    """Apply the formula above to arrays of components, one entry per candidate.

    ``coread`` defaults to 0 for every candidate (no reader of the source is known).
    """
    co = np.zeros(len(similarity), dtype=np.float32) if coread is None else coread
    return ScoreParts(
        similarity=(weights.similarity * similarity).astype(np.float32),
        recency=(weights.recency * recency).astype(np.float32),
        popularity=(weights.popularity * popularity).astype(np.float32),
        coread=(weights.coread * co).astype(np.float32),
    )
