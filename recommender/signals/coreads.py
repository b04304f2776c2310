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

Two bounds keep memory and list time flat on a live site whose reads never stop:

- each article keeps its ``partners`` most co-read articles: when it holds twice as many, the
  least co-read are dropped (ties: the larger article id), a count starting again from 0 if the
  pair comes back. The lists read an article's partners on every request, so this also bounds
  their cost; the engine adds at most ``coread_candidates`` (50) of them.
- the recent reads of the ``readers`` most recently active readers are kept; a reader who comes
  back after dropping out of them starts a new window (a new reader of what they read next).

At MIND-small scale (252,323 reads by 10,060 readers over 51k articles, measured by
``scripts/coread_cost.py``) the default of 200 partners kept 3.6M pairs of 5.5M, cut the time to
read a busy article's partners from 6.5 ms to 0.16 ms, and doubled the time to fold the reads in
(2.9 s to 5.3 s); Related's nDCG@10 on the co-read protocol moved from 0.1791 to 0.1803 there
and not at all on the MIND sample (evaluation/README.md).

Cosine with a small shrink was chosen over the conditional ``pairs(i, j) / readers(i)`` (which
favours what everybody reads, already the popularity signal's job), Jaccard and lift, on the
tuning readers of the co-read protocol (evaluation/README.md).
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, defaultdict, deque

from index.events import EventBatch

__all__ = ["CoReads"]


class CoReads:
    """Co-read counts of article pairs, folded in from events incrementally.

    Not thread-safe: fold and read under the caller's lock (as the engine does).
    """

    def __init__(
        self, *, window: int, shrink: float, partners: int = 200, readers: int = 200_000
    ) -> None:
        """No reads yet; each reader's last ``window`` reads pair with their next one.

        Args:
            window: recent reads per reader that pair with their next read.
            shrink: readers added to a weight's denominator.
            partners: co-read articles kept per article (see the module docstring).
            readers: most recently active readers whose recent reads are kept.

        Raises:
            ValueError: a bound below 1 or ``shrink`` negative.
        """
        for name, bound in (("window", window), ("partners", partners), ("readers", readers)):
            if isinstance(bound, bool) or not isinstance(bound, int) or bound < 1:
                raise ValueError(f"{name} must be a positive integer, got {bound!r}")
        if not math.isfinite(shrink) or shrink < 0:
            raise ValueError(f"shrink must be a finite number >= 0, got {shrink}")
        self._window = window
        self._shrink = shrink
        self._partners = partners
        self._max_readers = readers
        self._recent: OrderedDict[str, deque[str]] = OrderedDict()
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

    def pair_count(self) -> int:
        """How many (article, co-read article) counts are held, both ways."""
        return sum(len(partners) for partners in self._pairs.values())

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
            if len(self._recent) > self._max_readers:
                self._recent.popitem(last=False)  # the reader idle the longest
        else:
            self._recent.move_to_end(user)
            if article_id in recent:
                return
        pairs = self._pairs[article_id]
        for other in recent:
            pairs[other] = pairs.get(other, 0) + 1
            partner = self._pairs[other]
            partner[article_id] = partner.get(article_id, 0) + 1
            if len(partner) > 2 * self._partners:
                self._prune(partner)
        if len(pairs) > 2 * self._partners:
            self._prune(pairs)
        self._readers[article_id] += 1
        recent.append(article_id)

    def _prune(self, partners: dict[str, int]) -> None:
        # Amortised: a dict is pruned once per ``self._partners`` new partners.
        kept = heapq.nsmallest(self._partners, partners.items(), key=lambda kv: (-kv[1], kv[0]))
        partners.clear()
        partners.update(kept)
