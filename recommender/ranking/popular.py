"""*Popular*: what readers read most right now, beside the two lists about the source.

The most read articles by time-decayed reads (half-life ``popularity_half_life_days``, so the
count is of a recent window that fades rather than one that ends), optionally only from the
source's section (``popular_scope``), passing the request's filters, without the source and
what the other two lists already show, and without a copy of any of them. Articles nobody
has read are never listed. Its score is the popularity part of the formula alone
(:func:`recommender.ranking.scoring.list_weights`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["most_read"]


def most_read(
    ranked: npt.NDArray[np.int64],
    admissible: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.bool_]],
    excluded: set[int],
    k: int,
    story_keys: tuple[npt.NDArray[np.int64], ...] = (),
    sources: Iterable[int] = (),
) -> npt.NDArray[np.int64]:
    """The first ``k`` of ``ranked`` (docs, most read first) that are admissible and not
    ``excluded``, in that order, one per story.

    ``story_keys`` are columns of keys by doc (title and body keys, negative for none): a doc
    sharing a key with one listed before it, or with one of ``sources``, is a copy or re-issue
    and is left out.
    """
    if k <= 0 or not len(ranked):
        return np.zeros(0, dtype=np.int64)
    keep = admissible(ranked)
    if excluded:
        keep &= ~np.isin(ranked, np.fromiter(excluded, dtype=np.int64, count=len(excluded)))
    chosen: list[int] = []
    seen: list[set[int]] = [{int(column[doc]) for doc in sources} for column in story_keys]
    for doc in ranked[keep].tolist():
        keys = [int(column[doc]) for column in story_keys]
        if any(key >= 0 and key in known for key, known in zip(keys, seen, strict=True)):
            continue
        chosen.append(doc)
        for key, known in zip(keys, seen, strict=True):
            known.add(key)
        if len(chosen) == k:
            break
    return np.array(chosen, dtype=np.int64)
