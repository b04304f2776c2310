"""Reading events (views and clicks) stored in the catalogue's database.

Events are appended with a strictly increasing ``seq``, so a reader can fold in only what is new
since the last time it looked. An event may carry a ``key``: one whose key is already stored is
skipped, which makes re-reading the same file (e.g. a MIND ``behaviors.tsv``) idempotent.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from index.disk import disk_error
from index.errors import CatalogueError
from index.tables import CatalogueTables

__all__ = ["EVENT_KINDS", "Event", "EventBatch", "EventError", "EventStore"]

EVENT_KINDS: tuple[str, ...] = ("view", "click")

_SCHEMA = """
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('view', 'click')),
    at_ts       REAL NOT NULL,
    "user"      TEXT,
    key         TEXT UNIQUE
);
CREATE INDEX events_article ON events (article_id)
"""


class EventError(CatalogueError):
    """An event that cannot be stored; the message names the event and the field."""


@dataclass(frozen=True, slots=True)
class Event:
    """One view or click of an article by a reader at a time."""

    article_id: str
    kind: Literal["view", "click"]
    at: datetime  # tz-aware
    user: str | None = None
    key: str | None = None  # idempotency key: an event whose key is already stored is skipped


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Stored events as columns, in ``seq`` order."""

    seq: npt.NDArray[np.int64]
    article_ids: list[str]
    is_click: npt.NDArray[np.bool_]
    at_ts: npt.NDArray[np.float64]
    users: list[str | None] = field(default_factory=list)  # the reader, None if anonymous

    def __len__(self) -> int:
        return len(self.article_ids)


class EventStore(CatalogueTables):
    """The events table of one catalogue (SQLite file or PostgreSQL database); one instance
    may be shared between threads."""

    GROUP: ClassVar[str] = "events"
    SCHEMA_VERSION: ClassVar[int] = 1
    SCHEMA: ClassVar[str] = _SCHEMA

    def add(self, events: Sequence[Event]) -> int:
        """Store ``events`` in one transaction; returns how many were new (keys seen are skipped).

        Raises:
            EventError: an event has an empty article id, an unknown kind or a naive time.
        """
        if self._readonly:
            raise EventError(f"{self._where}: events are opened read-only")
        rows = [_row(event) for event in events]
        with self._transaction() as conn:
            # A key already stored is skipped; rowcount counts the rows added.
            added = conn.executemany(
                'INSERT INTO events (article_id, kind, at_ts, "user", key) '
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            ).rowcount
        return max(added, 0)

    def remove_from(self, moment: datetime) -> int:
        """Delete the events at or after ``moment``; returns how many.

        For a replay over a private copy of a home: the copy starts from the log as it stood
        at ``moment``, and the later events are recorded again in time order.

        Raises:
            EventError: a naive ``moment``, or a store opened read-only.
        """
        if self._readonly:
            raise EventError(f"{self._where}: events are opened read-only")
        if moment.utcoffset() is None:
            raise EventError(f"remove events from {moment!r}: the moment must be tz-aware")
        with self._lock:
            conn = self._open()
            try:
                # One statement in autocommit mode: atomic on its own.
                removed = conn.execute(
                    "DELETE FROM events WHERE at_ts >= ?", (moment.timestamp(),)
                ).rowcount
            except sqlite3.DatabaseError as exc:
                error = disk_error(exc, self._path)
                if error is None:
                    raise
                raise error from exc
        return int(removed)

    def last_seq(self) -> int:
        """The seq of the newest event, 0 if none."""
        with self._lock:
            row = self._open().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def count(self) -> int:
        """How many events are stored."""
        with self._lock:
            row = self._open().execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0])

    def since(self, seq: int, *, batch: int = 200_000) -> Iterator[EventBatch]:
        """Yield the events with seq greater than ``seq`` in batches of at most ``batch``."""
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        last = int(seq)
        while True:
            with self._lock:
                rows = (
                    self._open()
                    .execute(
                        'SELECT seq, article_id, kind, at_ts, "user" FROM events WHERE seq > ? '
                        "ORDER BY seq LIMIT ?",
                        (last, batch),
                    )
                    .fetchall()
                )
            if not rows:
                return
            seqs, ids, kinds, times, users = zip(*rows, strict=True)
            yield EventBatch(
                seq=np.asarray(seqs, dtype=np.int64),
                article_ids=list(ids),
                is_click=np.asarray([k == "click" for k in kinds], dtype=bool),
                at_ts=np.asarray(times, dtype=np.float64),
                users=list(users),
            )
            last = int(seqs[-1])


def _row(event: Event) -> tuple[str, str, float, str | None, str | None]:
    if not isinstance(event.article_id, str) or not event.article_id.strip():
        raise EventError(f"event {event!r}: article_id must be a non-empty string")
    if event.kind not in EVENT_KINDS:
        raise EventError(
            f"event for {event.article_id!r}: kind must be one of {', '.join(EVENT_KINDS)}, "
            f"got {event.kind!r}"
        )
    if not isinstance(event.at, datetime) or event.at.utcoffset() is None:
        raise EventError(f"event for {event.article_id!r}: at must be a tz-aware datetime")
    at_ts = event.at.timestamp()
    if not math.isfinite(at_ts):
        raise EventError(f"event for {event.article_id!r}: at is not a finite time")
    return (event.article_id, event.kind, at_ts, event.user, event.key)
