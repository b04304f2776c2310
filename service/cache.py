"""A per-worker cache of answered list requests, invalidated by the engine's generation.

A key holds everything that shapes an answer (route, ids, text, every list option), so two
requests share an entry only if they must get the same answer. An entry is valid only for the
engine generation it was computed in: any change that can alter a list (an upsert, an
unpublish, a popularity or override change, a new index version) moves the generation on, and
the whole cache is dropped at the next lookup. Entries also expire after ``ttl_seconds``,
because some answers depend on the clock alone (``max_age_days``, overrides that expire).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace

__all__ = ["CachedResponse", "ResponseCache"]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A serialised answer, the index version it came from, its ETag
    (:func:`service.http_caching.answer_etag`; empty for answers sent without one) and the
    ids its recommendation id records."""

    body: bytes
    index_version: str
    stored_at: float = 0.0
    etag: str = ""
    #: What a recommendation id records of the answer: list name -> item ids, and for an
    #: interleaved answer the variant behind each position (service/tracking.py).
    ids: tuple[tuple[str, tuple[str, ...]], ...] = ()
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()


class ResponseCache:
    """Least-recently-used responses, at most ``capacity`` of them holding at most ``max_bytes``
    of bodies together; thread-safe.

    The byte budget is what bounds memory: an explained list of 50 items is a hundred times
    the size of a plain list of 5, so a count alone would let a full cache grow with ``k``.
    """

    def __init__(
        self, capacity: int, ttl_seconds: float = 30.0, max_bytes: int | None = None
    ) -> None:
        """A cache of ``capacity`` entries (0 keeps nothing) and ``max_bytes`` of bodies (None:
        no byte limit), each kept ``ttl_seconds`` at most."""
        if capacity < 0:
            raise ValueError(f"cache capacity must be >= 0, got {capacity}")
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"cache max_bytes must be >= 0, got {max_bytes}")
        if not ttl_seconds > 0:
            raise ValueError(f"cache ttl_seconds must be positive, got {ttl_seconds}")
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._ttl = ttl_seconds
        self._entries: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._generation = -1
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """Bytes of response bodies held now."""
        return self._bytes

    def get(self, key: Hashable, generation: int) -> CachedResponse | None:
        """The entry for ``key`` if it was stored in ``generation``, else None."""
        with self._lock:
            if generation < self._generation:
                return None
            self._move_to(generation)
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.stored_at > self._ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, generation: int, response: CachedResponse) -> None:
        """Store ``response`` computed in ``generation``.

        ``generation`` must be read before computing the response: if the engine moved on
        meanwhile, the entry is for a past generation and is dropped instead of served. A body
        larger than the whole byte budget is not stored.
        """
        if self._capacity == 0:
            return
        if self._max_bytes is not None and len(response.body) > self._max_bytes:
            return
        with self._lock:
            if generation < self._generation:
                return
            self._move_to(generation)
            self._drop(key)
            self._entries[key] = replace(response, stored_at=time.monotonic())
            self._bytes += len(response.body)
            while len(self._entries) > self._capacity or (
                self._max_bytes is not None and self._bytes > self._max_bytes
            ):
                _, oldest = self._entries.popitem(last=False)
                self._bytes -= len(oldest.body)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def _move_to(self, generation: int) -> None:
        # Generations only grow; a caller holding an older one never clears newer entries.
        if generation > self._generation:
            self._entries.clear()
            self._bytes = 0
            self._generation = generation
