"""Maximal marginal relevance: a Related list that covers the angles of its source.

Carbonell & Goldstein (SIGIR 1998) pick, one at a time, the item maximising
``lambda * relevance - (1 - lambda) * max cos(item, items already picked)``. Dividing by
``lambda`` ranks identically and keeps the relevance on the scale of the blended score, so an
item's score is its relevance minus a diversity penalty:

    penalty = (1 - lambda) / lambda * max(0, max cos(item, items placed above it))

``lambda = 1`` is the plain relevance order; smaller values trade relevance for variety.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Diversified", "mmr"]


@dataclass(frozen=True, slots=True)
class Diversified:
    """The picked positions, best first, and the penalty each had when it was picked."""

    order: npt.NDArray[np.int64]
    penalty: npt.NDArray[np.float64]


def mmr(
    relevance: npt.NDArray[np.floating],
    cosine: npt.NDArray[np.floating],
    k: int,
    lambda_: float,
) -> Diversified:
    """Pick ``k`` of ``n`` items by maximal marginal relevance.

    Args:
        relevance: ``n`` relevance scores (the blended score).
        cosine: ``(n, n)`` cosines between the same items (the caller has them already: the
            story grouping of a list needs the same matrix).
        k: how many to pick (fewer if there are fewer items).
        lambda_: in (0, 1]; 1 ranks by relevance alone.

    Returns:
        Positions into the inputs, in list order, and each one's penalty. The picked scores
        ``relevance[order] - penalty`` never increase down the list.

    Raises:
        ValueError: ``lambda_`` outside (0, 1] or shapes that disagree.
    """
    if not 0.0 < lambda_ <= 1.0:
        raise ValueError(f"mmr lambda must be in (0, 1], got {lambda_}")
    n = len(relevance)
    if cosine.shape != (n, n):
        raise ValueError(f"mmr got {n} relevance scores but a {cosine.shape} cosine matrix")
    k = max(0, min(k, n))
    rel = np.asarray(relevance, dtype=np.float64)
    if lambda_ == 1.0 or k <= 1:
        order = np.argsort(-rel, kind="stable")[:k]
        return Diversified(order.astype(np.int64), np.zeros(len(order)))
    weight = (1.0 - lambda_) / lambda_
    closest = np.zeros(n)  # max(0, highest cosine to anything picked so far)
    taken = np.zeros(n)  # -inf once picked
    order = np.empty(k, dtype=np.int64)
    penalty = np.empty(k)
    for step in range(k):
        pick = int(np.argmax(rel - weight * closest + taken))  # first of equals: ties keep order
        order[step], penalty[step] = pick, weight * closest[pick]
        taken[pick] = -np.inf
        np.maximum(closest, cosine[pick], out=closest)
    return Diversified(order, penalty)
