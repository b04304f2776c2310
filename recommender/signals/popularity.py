"""Popularity: a time-decayed count of reads, normalised robustly, with a prior for new articles.

    count      = static + sum over events of  w_kind * 2 ** (-(T - t_event) / half_life)
    normalised = log:        min(1, log(1 + count) / log(1 + reference)),
                             reference = 99th percentile of the positive counts
                 percentile: mid-rank of count among the positive counts, in (0, 1]
                 (0 for a count of 0, with either method)
    popularity = max(normalised, 2 ** (-age / half_life) * prior)

``static`` is the count given with the article at ingest; ``w_kind`` is 1 for a view and
``click_weight`` for a click; ``T`` is the time of the newest event recorded (on a live site
that is now; on an archive it is the archive's end, so old archives do not decay to nothing).
``prior`` is the median normalised popularity of the articles that have any reads, and ``age``
is ``T`` minus the article's publish time: an article younger than a half-life has not had the
time to collect its reads, so it starts near the middle instead of at the bottom, and the prior
fades as it ages. Undated articles get no prior.

Over every article, a percentile squeezes the most read together as the catalogue grows: with
36,601 read articles the top 1% share 0.99-1.0, and similarity decides among them.
``popularity_normalisation = "candidates"`` (the engine's) takes the percentile among each
list's candidates instead, so the weight of popularity means the same at any catalogue size.
The default stays ``percentile``, which measured best on real reading data (evaluation/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt

from index.events import EventBatch
from recommender.signals.recency import SECONDS_PER_DAY

__all__ = [
    "DecayedCounts",
    "log_popularity",
    "normalised_popularity",
    "percentile_popularity",
    "popularity_reference",
    "popularity_signal",
]


def popularity_reference(counts: np.ndarray, quantile: float = 0.99) -> float:
    """The count that maps to popularity 1.0: a high quantile of the positive counts.

    A quantile rather than the maximum keeps a single viral outlier from squashing every other
    article's popularity towards zero.
    """
    positive = counts[np.isfinite(counts) & (counts > 0)]
    if positive.size == 0:
        return 1.0
    return max(float(np.quantile(positive, quantile)), 1.0)


def log_popularity(counts: np.ndarray, reference: float) -> npt.NDArray[np.float32]:
    """``min(1, log(1 + count) / log(1 + reference))`` for each count, in [0, 1]."""
    safe = np.where(np.isfinite(counts) & (counts > 0), counts, 0.0)
    scaled = np.minimum(1.0, np.log1p(safe) / np.log1p(max(reference, 1.0)))
    return np.asarray(scaled, dtype=np.float32)


def percentile_popularity(counts: np.ndarray) -> np.ndarray:
    """Each count's mid-rank among the positive counts, ``(below + below_or_equal + 1) / 2n``.

    The most read article gets 1, ties share their average rank, and a count of 0 gets 0. Ranks
    ignore how far ahead the leaders are, so a viral story cannot squash the rest.
    """
    safe = np.where(np.isfinite(counts) & (counts > 0), counts, 0.0)
    positive = np.sort(safe[safe > 0])
    out = np.zeros(safe.shape, dtype=np.float32)
    if positive.size == 0:
        return out
    read = safe > 0
    below = np.searchsorted(positive, safe[read], side="left")
    upto = np.searchsorted(positive, safe[read], side="right")
    out[read] = (below + upto + 1) / (2.0 * positive.size)
    return out


def normalised_popularity(
    counts: np.ndarray, method: Literal["log", "percentile"]
) -> npt.NDArray[np.float32]:
    """Counts mapped into [0, 1] by ``method`` (see the module docstring)."""
    if method == "log":
        return log_popularity(counts, popularity_reference(counts))
    if method == "percentile":
        return percentile_popularity(counts)
    raise ValueError(f"popularity normalisation must be 'log' or 'percentile', got {method!r}")


def popularity_signal(
    counts: np.ndarray,
    published_ts: np.ndarray,
    newest_ts: float,
    *,
    method: Literal["log", "percentile"],
    half_life_days: float,
) -> npt.NDArray[np.float32]:
    """The popularity of each article in [0, 1]: normalised count, or the prior if it is new.

    Args:
        counts: decayed counts of the articles to rank among (e.g. every live article).
        published_ts: their publish times in epoch seconds (NaN if undated).
        newest_ts: ``T``, the time of the newest event (or now if there are none).
        method: ``"log"`` or ``"percentile"``.
        half_life_days: the popularity half-life; also how fast the prior fades.
    """
    normalised = normalised_popularity(counts, method)
    read = normalised > 0
    if not read.any():
        return normalised
    prior = float(np.median(normalised[read]))
    age_days = np.maximum(newest_ts - published_ts, 0.0) / SECONDS_PER_DAY
    fade = np.where(np.isfinite(age_days), np.exp2(-age_days / half_life_days), 0.0)
    return np.maximum(normalised, fade * prior).astype(np.float32)


class DecayedCounts:
    """Per-article event counts decayed with a half-life, folded in incrementally.

    Counts are held as of the newest event seen, ``T``; when a newer event arrives every count
    is scaled down by ``2 ** (-(T_new - T) / half_life)`` first, so each exponent is at most 0
    and nothing overflows however long the history.
    """

    def __init__(self, *, half_life_days: float, click_weight: float) -> None:
        """No counts yet; views weigh 1 and clicks ``click_weight``."""
        if not half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, got {half_life_days}")
        if not click_weight >= 0:
            raise ValueError(f"click_weight must be >= 0, got {click_weight}")
        self._half_life_s = half_life_days * SECONDS_PER_DAY
        self._click_weight = click_weight
        self._slots: dict[str, int] = {}
        self._values = np.zeros(1024)
        self.newest_ts: float | None = None
        self.last_seq = 0

    def add(self, batch: EventBatch) -> None:
        """Fold in a batch of events (in any time order)."""
        if len(batch) == 0:
            return
        newest = float(np.max(batch.at_ts))
        if self.newest_ts is None:
            self.newest_ts = newest
        elif newest > self.newest_ts:
            self._values *= np.exp2(-(newest - self.newest_ts) / self._half_life_s)
            self.newest_ts = newest
        weights = np.where(batch.is_click, self._click_weight, 1.0) * np.exp2(
            -(self.newest_ts - batch.at_ts) / self._half_life_s
        )
        slots = np.fromiter(
            (self._slot(article_id) for article_id in batch.article_ids),
            dtype=np.int64,
            count=len(batch),
        )
        np.add.at(self._values, slots, weights)
        self.last_seq = max(self.last_seq, int(batch.seq[-1]))

    def per_doc(self, article_ids: Mapping[int, str], size: int) -> npt.NDArray[np.float64]:
        """The counts laid out by doc id (``article_ids`` maps doc id to article id)."""
        out = np.zeros(size)
        for doc, article_id in article_ids.items():
            slot = self._slots.get(article_id)
            if slot is not None and doc < size:
                out[doc] = self._values[slot]
        return out

    def get(self, article_id: str) -> float:
        """The decayed count of one article (0 if it has no events)."""
        slot = self._slots.get(article_id)
        return 0.0 if slot is None else float(self._values[slot])

    def _slot(self, article_id: str) -> int:
        slot = self._slots.get(article_id)
        if slot is None:
            slot = self._slots[article_id] = len(self._slots)
            if slot >= len(self._values):
                self._values = np.concatenate([self._values, np.zeros(len(self._values))])
        return slot
