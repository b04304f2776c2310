"""The simulated reader's click model: position bias times a known preference.

A position-based model (Richardson et al. 2007; Chuklin, Markov and de Rijke, "Click Models
for Web Search", 2015): the reader examines position ``i`` (1-based) with probability

    examination(i) = 1 / i ** eta

and clicks an examined item with its attractiveness, independently of the other positions::

    P(click at i) = examination(i) * attractiveness(item at i)
    attractiveness(item) = a0 * (1 + effect)   if the better variant ranks the item higher
                                                than the other variant does
                           a0                  otherwise

"Ranks higher" compares the item's position in the two variants' lists of the same source
(:func:`favoured`); an item absent from a list ranks below all of it. The true effect is then
known: the better variant puts more attractive items in more examined positions, and an
interleaved list credits their clicks mostly to its team. :func:`expected_ctr` gives the exact
rate of lists with at least one click, so a run can state the true lift it simulated.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ClickModel",
    "attractiveness",
    "click_probabilities",
    "examination",
    "expected_ctr",
    "favoured",
    "sample_clicks",
]


def examination(position: int, eta: float) -> float:
    """The probability that a reader looks at 1-based ``position``: ``1 / position ** eta``.

    Raises:
        ValueError: ``position`` below 1 or ``eta`` negative.
    """
    if position < 1:
        raise ValueError(f"position must be 1 or more, got {position}")
    if eta < 0 or not math.isfinite(eta):
        raise ValueError(f"eta must be a finite number >= 0, got {eta}")
    return 1.0 / math.pow(position, eta)


def favoured(better: Sequence[str], other: Sequence[str]) -> frozenset[str]:
    """The items that list ``better`` ranks higher than list ``other`` does (an item missing
    from ``other`` counts as ranked after all of it)."""
    rank_other = {item: rank for rank, item in enumerate(other)}
    return frozenset(
        item for rank, item in enumerate(better) if rank < rank_other.get(item, len(other))
    )


@dataclass(frozen=True, slots=True)
class ClickModel:
    """The parameters of the position-based model (see the module docstring).

    Attributes:
        a0: attractiveness of an item the better variant does not favour, in (0, 1].
        effect: relative rise of a favoured item's attractiveness; ``a0 * (1 + effect) <= 1``.
        eta: examination exponent (0: every position is examined).
    """

    a0: float = 0.1
    effect: float = 0.3
    eta: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.a0 <= 1:
            raise ValueError(f"a0 must be in (0, 1], got {self.a0}")
        if self.effect < 0 or not math.isfinite(self.effect):
            raise ValueError(f"effect must be a finite number >= 0, got {self.effect}")
        if self.a0 * (1 + self.effect) > 1:
            raise ValueError(
                f"a0 * (1 + effect) = {self.a0 * (1 + self.effect):g} is not a probability; "
                "lower a0 or the effect"
            )
        examination(1, self.eta)  # validates eta


def attractiveness(item: str, preferred: frozenset[str], model: ClickModel) -> float:
    """The probability that an examined ``item`` is clicked."""
    return model.a0 * (1 + model.effect) if item in preferred else model.a0


def click_probabilities(
    shown: Sequence[str], preferred: frozenset[str], model: ClickModel
) -> list[float]:
    """``P(click)`` at each position of ``shown`` (in order)."""
    return [
        examination(position, model.eta) * attractiveness(item, preferred, model)
        for position, item in enumerate(shown, start=1)
    ]


def expected_ctr(shown: Sequence[str], preferred: frozenset[str], model: ClickModel) -> float:
    """The probability that a reader clicks at least one item of ``shown``."""
    return 1.0 - math.prod(1.0 - p for p in click_probabilities(shown, preferred, model))


def sample_clicks(
    shown: Sequence[str], preferred: frozenset[str], model: ClickModel, rng: random.Random
) -> list[int]:
    """The 1-based positions one simulated reader clicks in ``shown``, ascending."""
    return [
        position
        for position, p in enumerate(click_probabilities(shown, preferred, model), start=1)
        if rng.random() < p
    ]
