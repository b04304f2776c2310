"""Feedback on served lists (impressions and clicks) stored in the catalogue's database.

A row records what a reader did with one list of one served answer, with everything a report
or an offline replay needs copied from the answer's recommendation id (source, list, variant,
the ids as served), so the table alone can be analysed. Rows are appended with a strictly
increasing ``seq``; each has a ``key`` derived from its recommendation id, list and position,
and a row whose key is already stored is skipped, so re-posting the same feedback adds nothing.
This module stores what it is given: checking a row against its recommendation id is
:mod:`recommender.experiments.feedback`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, cast

from index.errors import CatalogueError
from index.tables import CatalogueTables

__all__ = ["FEEDBACK_KINDS", "Feedback", "FeedbackError", "FeedbackStore"]

FEEDBACK_KINDS: tuple[str, ...] = ("impression", "click")

_SCHEMA = """
CREATE TABLE feedback (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('impression', 'click')),
    at              TEXT NOT NULL,
    recommendation  TEXT NOT NULL,
    experiment      TEXT,
    variant         TEXT NOT NULL,
    list_name       TEXT NOT NULL,
    source          TEXT NOT NULL,
    reader          TEXT,
    index_version   TEXT NOT NULL,
    shown           TEXT NOT NULL,
    teams           TEXT NOT NULL,
    visible         TEXT,
    position        INTEGER,
    article_id      TEXT,
    issued_at       TEXT
);
CREATE INDEX feedback_experiment ON feedback (experiment, seq)
"""

_COLUMNS = (
    "key, kind, at, recommendation, experiment, variant, list_name, source, reader, "
    "index_version, shown, teams, visible, position, article_id, issued_at"
)
_BATCH = 10_000


class FeedbackError(CatalogueError):
    """Feedback that cannot be stored; the message names the row and the field."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """One impression of a served list, or one click on an item of it."""

    kind: Literal["impression", "click"]
    key: str  # idempotency key: a row whose key is already stored is skipped
    at: datetime  # tz-aware: when the reader saw or clicked
    recommendation: str  # the recommendation id's nonce: one served answer
    experiment: str | None
    variant: str
    list_name: str
    source: str  # the source article id; "" for a draft text
    reader: str | None  # the reader's hash, never the raw id
    index_version: str
    shown: tuple[str, ...]  # the list's ids as served (impressions; () for clicks)
    teams: tuple[str, ...]  # the variant per position, interleaving only
    visible: tuple[int, ...] | None = None  # impressions: 1-based positions seen (None: all)
    position: int | None = None  # clicks: 1-based
    article_id: str | None = None  # clicks: the article clicked
    issued_at: datetime | None = None  # when the list was served


class FeedbackStore(CatalogueTables):
    """The feedback table of one catalogue (SQLite file or PostgreSQL database); one instance
    may be shared between threads."""

    GROUP: ClassVar[str] = "feedback"
    SCHEMA_VERSION: ClassVar[int] = 1
    SCHEMA: ClassVar[str] = _SCHEMA

    def add(self, rows: Sequence[Feedback]) -> int:
        """Store ``rows`` in one transaction; returns how many were new (keys seen are skipped).

        Raises:
            FeedbackError: a row has an empty key, an unknown kind, a naive time, or is a
                click without its position and article.
        """
        return len(self.add_new(rows))

    def add_new(self, rows: Sequence[Feedback]) -> list[Feedback]:
        """Store ``rows`` in one transaction; returns those that were new, in order.

        Raises:
            FeedbackError: as :meth:`add`.
        """
        if self._readonly:
            raise FeedbackError(f"{self._where}: feedback is opened read-only")
        values = [_values(row) for row in rows]
        new: list[Feedback] = []
        with self._transaction() as conn:
            for row, value in zip(rows, values, strict=True):
                cursor = conn.execute(
                    f"INSERT INTO feedback ({_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    value,
                )
                if cursor.rowcount == 1:
                    new.append(row)
        return new

    def rows(self, *, experiment: str | None = None, since_seq: int = 0) -> Iterator[Feedback]:
        """Yield the rows with seq greater than ``since_seq`` in seq order (of one
        ``experiment`` only, when given)."""
        last = int(since_seq)
        where = "seq > ?" if experiment is None else "seq > ? AND experiment = ?"
        while True:
            params: tuple[Any, ...] = (last,) if experiment is None else (last, experiment)
            with self._lock:
                found = (
                    self._open()
                    .execute(
                        f"SELECT seq, {_COLUMNS} FROM feedback WHERE {where} ORDER BY seq LIMIT ?",
                        (*params, _BATCH),
                    )
                    .fetchall()
                )
            if not found:
                return
            for record in found:
                yield _feedback(record[1:])
            last = int(found[-1][0])

    def count(self) -> int:
        """How many rows are stored."""
        with self._lock:
            row = self._open().execute("SELECT COUNT(*) FROM feedback").fetchone()
        return int(row[0])

    def last_seq(self) -> int:
        """The seq of the newest row, 0 if none."""
        with self._lock:
            row = self._open().execute("SELECT MAX(seq) FROM feedback").fetchone()
        return int(row[0] or 0)


def _values(row: Feedback) -> tuple[object, ...]:
    name = f"feedback {row.key!r}"
    if not isinstance(row.key, str) or not row.key.strip():
        raise FeedbackError(f"feedback {row!r}: key must be a non-empty string")
    if row.kind not in FEEDBACK_KINDS:
        raise FeedbackError(
            f"{name}: kind must be one of {', '.join(FEEDBACK_KINDS)}, got {row.kind!r}"
        )
    if row.kind == "click" and (row.position is None or row.position < 1 or not row.article_id):
        raise FeedbackError(f"{name}: a click needs a position (from 1) and an article_id")
    for field_name in ("recommendation", "variant", "list_name", "index_version"):
        if not isinstance(getattr(row, field_name), str) or not getattr(row, field_name):
            raise FeedbackError(f"{name}: {field_name} must be a non-empty string")
    return (
        row.key,
        row.kind,
        _time(row.at, name, "at"),
        row.recommendation,
        row.experiment,
        row.variant,
        row.list_name,
        row.source,
        row.reader,
        row.index_version,
        json.dumps(list(row.shown)),
        json.dumps(list(row.teams)),
        None if row.visible is None else json.dumps(list(row.visible)),
        row.position,
        row.article_id,
        None if row.issued_at is None else _time(row.issued_at, name, "issued_at"),
    )


def _time(value: datetime, name: str, field_name: str) -> str:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise FeedbackError(f"{name}: {field_name} must be a tz-aware datetime")
    # UTC with a fixed width, so the text sorts as the times do and reads back exactly.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _feedback(record: Sequence[Any]) -> Feedback:
    (
        key,
        kind,
        at,
        recommendation,
        experiment,
        variant,
        list_name,
        source,
        reader,
        index_version,
        shown,
        teams,
        visible,
        position,
        article_id,
        issued_at,
    ) = record
    return Feedback(
        kind=cast(Literal["impression", "click"], kind),
        key=key,
        at=datetime.fromisoformat(at),
        recommendation=recommendation,
        experiment=experiment,
        variant=variant,
        list_name=list_name,
        source=source,
        reader=reader,
        index_version=index_version,
        shown=tuple(json.loads(shown)),
        teams=tuple(json.loads(teams)),
        visible=None if visible is None else tuple(json.loads(visible)),
        position=position,
        article_id=article_id,
        issued_at=None if issued_at is None else datetime.fromisoformat(issued_at),
    )
