"""Co-reading: "readers of this also read", learnt from stored events that name their reader.

Each reader's last ``window`` distinct reads are kept. A read of an article that is not among
them pairs it with each of them, and counts one more reader of it:

    pairs(i, j) += 1  for each j among the reader's recent reads,     readers(i) += 1

The co-read weight of ``j`` for a source ``i`` is the cosine of their reader sets, shrunk
towards 0 when few readers back it:

    coread(i, j) = pairs(i, j) / (sqrt(readers(i) * readers(j)) + shrink)

``pairs(i, j) <= min(readers(i), readers(j)) <= sqrt(readers(i) * readers(j))``, so the weight
lies in [0, 1). Views and clicks are both reads; events without a reader are skipped. A read
again while still among the reader's recent reads adds nothing; a read again after dropping out
of them counts as a new reader. Counts are not decayed: unlike popularity, that two articles
interest the same readers does not go stale with the day's news.

Cosine with a small shrink was chosen over the conditional ``pairs(i, j) / readers(i)`` (which
favours what everybody reads, already the popularity signal's job), Jaccard and lift, on the
tuning readers of the co-read protocol (evaluation/README.md).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque

from index.events import EventBatch

__all__ = ["CoReads"]


class CoReads:
    """Co-read counts of article pairs, folded in from events incrementally.

    Not thread-safe: fold and read under the caller's lock (as the engine does).
    """

    def __init__(self, *, window: int, shrink: float) -> None:
        """No reads yet; each reader's last ``window`` reads pair with their next one.

        Raises:
            ValueError: ``window`` below 1 or ``shrink`` negative.
        """
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive integer, got {window!r}")
        if not math.isfinite(shrink) or shrink < 0:
            raise ValueError(f"shrink must be a finite number >= 0, got {shrink}")
        self._window = window
        self._shrink = shrink
        self._recent: dict[str, deque[str]] = {}
        self._readers: dict[str, int] = defaultdict(int)
        self._pairs: dict[str, dict[str, int]] = defaultdict(dict)
        self.last_seq = 0

    def add(self, batch: EventBatch) -> None:
        """Fold in a batch of events, in their ``seq`` order."""
        if len(batch) == 0:
            return
        for article_id, user in zip(batch.article_ids, batch.users, strict=False):
            if user is not None:
                self._read(user, article_id)
        self.last_seq = max(self.last_seq, int(batch.seq[-1]))

    def readers(self, article_id: str) -> int:
        """How many readers read ``article_id`` (0 if none named)."""
        return self._readers.get(article_id, 0)

    def pairs(self, article_id: str, other: str) -> int:
        """How many readers read both articles."""
        return self._pairs.get(article_id, {}).get(other, 0)

    def neighbours(self, article_id: str, limit: int | None = None) -> list[tuple[str, float]]:
        """The articles co-read with ``article_id`` and their weights, best first.

        Ties go to the smaller article id, so the order does not depend on when pairs arrived.
        ``limit`` keeps the best ``limit`` (all of them when ``None``).

        Raises:
            ValueError: a negative ``limit``.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        partners = self._pairs.get(article_id)
        if not partners:
            return []
        n_source = self._readers[article_id]
        weighted = [
            (other, count / (math.sqrt(n_source * self._readers[other]) + self._shrink))
            for other, count in partners.items()
        ]
        key = lambda item: (-item[1], item[0])  # noqa: E731
        if limit is None:
            return sorted(weighted, key=key)
        return heapq.nsmallest(limit, weighted, key=key)

    def _read(self, user: str, article_id: str) -> None:
        recent = self._recent.get(user)
        if recent is None:
            recent = self._recent[user] = deque(maxlen=self._window)
        elif article_id in recent:
            return
        pairs = self._pairs[article_id]
        for other in recent:
            pairs[other] = pairs.get(other, 0) + 1
            partner = self._pairs[other]
            partner[article_id] = partner.get(article_id, 0) + 1
        self._readers[article_id] += 1
        recent.append(article_id)
