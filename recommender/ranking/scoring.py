"""The scoring formula: the one place it is written down, and the one function that applies it.

Every list is the same formula under its own weights::

    similarity = (1 - share) * cosine + share * lexical
    score      = w_sim * similarity + w_rec * recency + w_pop * popularity
                 + w_coread * coread + w_section * section + w_story * story
    shown      = score - diversity        (Related only; kept apart from the formula)

- ``cosine``: of the candidate's and the source's *augmented* embeddings, in [-1, 1]: each
  vector pulled towards the mean of its ``neighbours`` closest articles (see
  :mod:`recommender.signals.neighbourhood`). ``lexical``: BM25 between their titles and leads
  divided by the source's match with itself, about [0, 1] (:mod:`recommender.signals.lexical`).
  ``share`` is ``lexical_weight`` in *More like this* and ``related_lexical_weight`` in
  *Related*.
- ``recency``: ``2 ** (-|t_candidate - t_source| / h)`` (:mod:`recommender.signals.recency`).
- ``popularity``: time-decayed reads normalised into [0, 1]
  (:mod:`recommender.signals.popularity`).
- ``coread``: "readers of this also read", in [0, 1) (:mod:`recommender.signals.coreads`).
- ``section``: 1 when the candidate is in the source's section or shares one of its tags,
  else 0 (:mod:`recommender.signals.section`).
- ``story``: same-story evidence, the match of the two articles' names, in [0, 1]
  (:mod:`recommender.signals.story`).
- ``diversity``: maximal marginal relevance's penalty (:mod:`recommender.ranking.diversity`).

The three lists weigh the signals differently (:func:`list_weights`):

- *More like this*: ``similarity`` and ``story`` only (``w_sim`` 1, ``w_story`` = the setting
  ``story_weight``): the same story's follow-ups first, then the closest on the topic;
- *Related*: the configured weights (``NEWSREC_W_*``, per request ``w_*``), applied only to the
  candidates that passed the relevance gate (:mod:`recommender.ranking.gate`): recency,
  popularity, co-reading and section reorder what is related and never let anything else in;
- *Popular*: ``popularity`` alone.

The weights are a named mapping checked once (:class:`Weights`); settings, the HTTP API and the
CLI derive their ``w_*`` fields from :data:`SIGNALS`, so a new signal is one line here plus the
module that computes it. :func:`score` returns every part by name and their sum; explanations
show those parts, rounded to six decimals, and a score that is their sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "SIGNALS",
    "ListName",
    "Scores",
    "Signal",
    "WeightError",
    "Weights",
    "list_weights",
    "score",
    "weight_names",
]

Array = npt.NDArray[np.float32]
ListName = Literal["more_like_this", "related", "popular"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One weighted signal: its name in the formula and explanations, and its weight's name."""

    name: str
    weight: str  # the setting (NEWSREC_W_...), HTTP parameter and CLI option
    default: float  # Related's default weight, chosen by evidence (README, "Defaults")
    description: str


#: Every weighted signal. Related's defaults were chosen on tuning splits only, as the best
#: co-reading under the editors' constraints (README, "Defaults from evidence").
SIGNALS: tuple[Signal, ...] = (
    Signal("similarity", "w_sim", 1.0, "Weight of similarity (meaning and shared words)."),
    Signal("recency", "w_rec", 0.05, "Weight of recency around the source."),
    Signal("popularity", "w_pop", 0.3, "Weight of popularity among related candidates."),
    Signal("coread", "w_coread", 1.0, "Weight of co-reading: readers of the source also read it."),
    Signal("section", "w_section", 0.0, "Weight of sharing the source's section or a tag."),
    Signal("story", "w_story", 0.0, "Weight of same-story evidence (shared names)."),
)
_BY_NAME = {s.name: s for s in SIGNALS}
_BY_WEIGHT = {s.weight: s for s in SIGNALS}


class WeightError(ValueError):
    """A weight that is unknown, negative or not finite, or weights that are all 0."""


class Weights(Mapping[str, float]):
    """An immutable mapping from signal name to weight; names outside :data:`SIGNALS` and
    values that are negative or not finite are refused. A missing signal weighs 0."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float]) -> None:
        """Check ``values`` (signal name -> weight) once.

        Raises:
            WeightError: an unknown signal, or a weight that is negative or not finite.
        """
        checked: dict[str, float] = {}
        for name, value in values.items():
            if name not in _BY_NAME:
                known = ", ".join(_BY_NAME)
                raise WeightError(f"unknown signal {name!r}; the signals are {known}")
            weight = float(value)
            if not np.isfinite(weight) or weight < 0:
                raise WeightError(
                    f"weight {_BY_NAME[name].weight} must be a finite number >= 0, got {value}"
                )
            checked[name] = weight
        self._values = {s.name: checked.get(s.name, 0.0) for s in SIGNALS}

    @classmethod
    def from_settings(cls, settings: object) -> Weights:
        """The weights configured in ``settings`` (its ``w_*`` fields)."""
        return cls({s.name: getattr(settings, s.weight) for s in SIGNALS})

    @classmethod
    def defaults(cls) -> Weights:
        """The default weight of every signal."""
        return cls({s.name: s.default for s in SIGNALS})

    def overridden(self, by_weight_name: Mapping[str, float | None]) -> Weights:
        """A copy with the weights named ``w_*`` in ``by_weight_name`` replaced (``None`` keeps
        the current one).

        Raises:
            WeightError: an unknown weight name or a bad value.
        """
        changed = dict(self._values)
        for weight_name, value in by_weight_name.items():
            signal = _BY_WEIGHT.get(weight_name)
            if signal is None:
                raise WeightError(
                    f"unknown weight {weight_name!r}; the weights are {weight_names()}"
                )
            if value is not None:
                changed[signal.name] = value
        return Weights(changed)

    def total(self) -> float:
        """The sum of the weights; a list needs it above 0."""
        return sum(self._values.values())

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Weights) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.values()))

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v:g}" for k, v in self._values.items() if v)
        return f"Weights({given})"


def weight_names() -> str:
    """The ``w_*`` names of every signal, comma-separated, for messages."""
    return ", ".join(s.weight for s in SIGNALS)


def list_weights(name: ListName, related: Weights, *, story_weight: float) -> Weights:
    """The weights a list is ranked by: More like this by similarity and same-story evidence,
    Related by ``related`` (configured or asked for), Popular by popularity alone."""
    if name == "more_like_this":
        return Weights({"similarity": 1.0, "story": story_weight})
    if name == "popular":
        return Weights({"popularity": 1.0})
    return related


@dataclass(frozen=True, slots=True)
class Scores:
    """Each candidate's weighted parts by name, and their sum.

    ``similarity`` is split into its two halves as explanations show them: ``similarity``
    (meaning, ``w_sim * (1 - share) * cosine``) and ``lexical`` (``w_sim * share * lexical``).
    """

    parts: dict[str, Array]
    total: Array

    def of(self, row: int) -> dict[str, float]:
        """The parts of one candidate, as plain floats (only those of signals weighed)."""
        return {name: float(values[row]) for name, values in self.parts.items()}


def score(signals: Mapping[str, Array], weights: Weights, *, lexical_share: float) -> Scores:
    """Apply the formula to arrays of signals, one entry per candidate.

    Args:
        signals: ``cosine`` and ``lexical`` (the halves of similarity) and any of the other
            signals by name; a weighed signal that is missing counts 0 for every candidate.
        weights: the weights of this list.
        lexical_share: the share of ``lexical`` in similarity.

    Returns:
        The parts of every signal with a weight above 0, and their sum.
    """
    n = len(signals["cosine"])
    parts: dict[str, Array] = {}
    w_sim = weights["similarity"]
    if w_sim:
        parts["similarity"] = (w_sim * (1.0 - lexical_share) * signals["cosine"]).astype(np.float32)
        parts["lexical"] = (w_sim * lexical_share * signals["lexical"]).astype(np.float32)
    for signal in SIGNALS[1:]:
        weight = weights[signal.name]
        if weight:
            values = signals.get(signal.name)
            parts[signal.name] = (
                np.zeros(n, dtype=np.float32)
                if values is None
                else (weight * values).astype(np.float32)
            )
    total = np.zeros(n, dtype=np.float32)
    for values in parts.values():
        total += values
    return Scores(parts, total)
