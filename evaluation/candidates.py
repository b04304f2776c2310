"""Which candidates a source's list may hold: never the source, optionally only earlier or nearby.

The labels protocol can restrict candidates to what was published before the source (what an
editor could have linked to on publication day) or to a window of days around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CandidateRule"]


@dataclass(frozen=True, slots=True)
class CandidateRule:
    """A restriction of candidates relative to the source's publish time.

    Attributes:
        before_source: only candidates published strictly before the source.
        window_days: only candidates within this many days of the source (either side).
    """

    before_source: bool = False
    window_days: float | None = None

    def __post_init__(self) -> None:
        if self.window_days is not None and not self.window_days > 0:
            raise ValueError(f"window_days must be positive, got {self.window_days}")

    @property
    def restricts(self) -> bool:
        """True when the rule looks at publish times at all."""
        return self.before_source or self.window_days is not None

    def mask(self, published_ts: np.ndarray, source_rows: np.ndarray) -> np.ndarray:
        """Allowed candidates, ``(len(source_rows), len(published_ts))``; the source is never.

        Undated candidates (or sources) fail any time restriction.
        """
        n = published_ts.shape[0]
        allowed = np.ones((len(source_rows), n), dtype=bool)
        allowed[np.arange(len(source_rows)), source_rows] = False
        if not self.restricts:
            return allowed
        source_ts = published_ts[source_rows][:, None]
        with np.errstate(invalid="ignore"):
            if self.before_source:
                allowed &= published_ts[None, :] < source_ts
            if self.window_days is not None:
                allowed &= np.abs(published_ts[None, :] - source_ts) <= self.window_days * 86_400.0
        return allowed

    def allows(self, candidate_ts: float, source_ts: float) -> bool:
        """The rule for one candidate and one source time (for lists made by the engine)."""
        if not self.restricts:
            return True
        if not (math.isfinite(candidate_ts) and math.isfinite(source_ts)):
            return False
        if self.before_source and not candidate_ts < source_ts:
            return False
        return self.window_days is None or abs(candidate_ts - source_ts) <= (
            self.window_days * 86_400.0
        )

    def describe(self) -> dict[str, object]:
        """The rule as recorded in ``results.json``."""
        return {"before_source": self.before_source, "window_days": self.window_days}
