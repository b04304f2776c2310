"""A reading log replayed in time order, so that each judged moment sees only what came before.

:class:`ReadsBefore` counts the reads before a moment (the most-popular baseline);
:class:`EngineReplay` opens an engine over a private copy of an evaluation home and records the
log's events into it up to each moment, as a live site would have received them.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from evaluation.reading import read_counts
from index.events import Event, EventStore
from recommender.embedding.embedder import Embedder
from recommender.serving.engine import Engine
from recommender.settings import Settings

__all__ = ["EngineReplay", "ReadsBefore"]


class ReadsBefore:
    """Walks a time-ordered log forward; :meth:`advance` returns the events new since the last
    moment, all strictly before the new one."""

    def __init__(self, events: Sequence[Event]) -> None:
        """Replay ``events``, which must be in time order.

        Raises:
            ValueError: events out of time order.
        """
        for earlier, later in itertools.pairwise(events):
            if later.at < earlier.at:
                raise ValueError("a replayed log must be in time order")
        self._events = events
        self._next = 0
        self._moment: datetime | None = None
        self._seen: list[Event] = []

    def advance(self, moment: datetime) -> Sequence[Event]:
        """The events before ``moment`` not returned yet.

        Raises:
            ValueError: ``moment`` earlier than the previous one (the log cannot run back).
        """
        if self._moment is not None and moment < self._moment:
            raise ValueError(f"replay cannot go back from {self._moment} to {moment}")
        self._moment = moment
        start = self._next
        while self._next < len(self._events) and self._events[self._next].at < moment:
            self._next += 1
        batch = self._events[start : self._next]
        self._seen.extend(batch)
        return batch

    def counts(self) -> dict[str, float]:
        """Reads per article so far (each reader once per article)."""
        return read_counts(self._seen)


class EngineReplay:
    """An engine over a copy of an evaluation home, fed a log's events up to each moment."""

    def __init__(
        self,
        settings: Settings,
        events: Sequence[Event],
        scratch: Path,
        embedder: Embedder | None,
        *,
        start: datetime | None = None,
    ) -> None:
        """Copy ``settings.home`` to ``scratch`` (replacing it) and open an engine there.

        The engine folds new events into popularity and co-reads at every refresh, so each
        moment is scored with every event before it.

        With ``start`` (a home that has served, replayed from that moment), the copy's events
        at or after ``start`` are removed, so that ``events`` (those from ``start`` on) are
        recorded again in time order, and the engine's clock reads the last moment advanced to,
        as the live engine's clock did then (recency, ages).
        """
        if scratch.exists():
            shutil.rmtree(scratch)
        shutil.copytree(settings.home, scratch)
        self._scratch = scratch
        values = {**settings.model_dump(), "home": scratch, "popularity_refresh_seconds": 0.0}
        replayed = Settings(**values)
        self._now = start
        if start is not None:
            with EventStore(replayed.catalogue_path) as store:
                store.remove_from(start)
            self.engine = Engine(replayed, embedder=embedder, clock=self._clock)
        else:
            self.engine = Engine(replayed, embedder=embedder)
        self._log = ReadsBefore(events)

    def _clock(self) -> float:
        return self._now.timestamp() if self._now is not None else time.time()

    def advance(self, moment: datetime) -> None:
        """Record every event before ``moment`` and fold it into the engine's signals."""
        if self._now is not None:
            self._now = max(self._now, moment)
        batch = self._log.advance(moment)
        if batch:
            self.engine.record_events(batch)
            self.engine.refresh()

    def close(self) -> None:
        """Close the engine and remove the copy."""
        self.engine.close()
        shutil.rmtree(self._scratch, ignore_errors=True)
