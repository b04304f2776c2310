"""Reading events into the event store: ``newsrec events PATH`` and MIND ``behaviors.tsv`` reads.

An event file is JSONL (optionally gzipped), CSV or Parquet with one event per row::

    {"article_id": "sample-001", "kind": "view", "at": "2026-09-01T07:28:00Z", "user": "u40"}

``kind`` is ``view`` or ``click``; ``at`` is ISO 8601 (a time without a zone is UTC); ``user``
and ``id`` are optional. A row of kind ``impression`` or ``click`` that carries the
``recommendation_id`` of a served answer (with ``position`` for a click, optionally ``list`` and,
for an impression, ``visible``) is feedback on that answer: it is checked against the id exactly
as ``POST /events`` checks it (:func:`recommender.experiments.feedback.feedback_from_mapping`),
stored in the feedback table, and a click also as an ordinary click by the answer's reader; a
row that does not match its id is reported like any bad row.

An event with an ``id``, or with a ``user`` (one reader, one article, one instant), is stored
once however often its file is read; so is an anonymous event, keyed by its content and its
line in the file; so is feedback, keyed by its answer, list and position. Rerunning an
import, whole or after a kill, is safe.
A MIND ``behaviors.tsv`` gives one click per clicked impression, at the impression's time, keyed
by impression and news id, and one view per history read, stamped just before the reader's first
impression in the file (MIND gives history reads no time; see :mod:`recommender.ingestion.mind`),
keyed by reader and news id; so reading the file again adds nothing. Bad rows are reported
with their file and line and skipped; events for articles not (yet) in the catalogue are kept,
so they count as soon as the article arrives, and reported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from index import Catalogue
from index.events import EVENT_KINDS, Event, EventStore
from index.feedback import Feedback, FeedbackStore
from recommender.experiments.feedback import InvalidFeedback, click_event, feedback_from_mapping
from recommender.experiments.tokens import RecommendationIds
from recommender.ingestion.articles import InvalidArticle, parse_datetime
from recommender.ingestion.files import Row, RowProblem, UnreadableFile, read_rows
from recommender.ingestion.mind import (
    HISTORY_LEAD,
    Impression,
    first_impressions,
    is_behaviors_file,
    read_behaviors,
)

__all__ = ["EventReport", "event_from_mapping", "read_events", "record_events"]

_BATCH = 10_000


@dataclass
class EventReport:
    """What recording event files did."""

    added: int = 0
    already_stored: int = 0
    feedback_added: int = 0  # impressions and clicks checked against their recommendation id
    feedback_already_stored: int = 0
    rejected: int = 0
    unknown_articles: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def nothing_read(self) -> bool:
        """True when not one event (nor feedback) could be read from any file."""
        return (
            self.added == 0
            and self.already_stored == 0
            and self.feedback_added == 0
            and self.feedback_already_stored == 0
        )


def event_from_mapping(raw: Mapping[str, Any]) -> Event:
    """Validate one event row (a JSON object, CSV row, ...).

    Raises:
        InvalidArticle: naming the first field that is missing or wrong.
    """
    article_id = raw.get("article_id")
    if isinstance(article_id, int) and not isinstance(article_id, bool):
        article_id = str(article_id)
    if not isinstance(article_id, str) or not article_id.strip():
        raise InvalidArticle("article_id: missing or not text")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind.strip().lower() not in EVENT_KINDS:
        raise InvalidArticle(f"kind: expected one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    at = parse_datetime(raw.get("at"), "at")
    if at is None:
        raise InvalidArticle("at: missing")
    user = _optional_text(raw, "user")
    key = _optional_text(raw, "id")
    if key is None and user is not None:
        # One reader cannot read one article twice in the same instant: such a row is the same
        # event read again, so re-reading a file adds nothing.
        key = f"{article_id.strip()}|{kind.strip().lower()}|{at.isoformat()}|{user}"
    return Event(
        article_id=article_id.strip(),
        kind=cast(Literal["view", "click"], kind.strip().lower()),
        at=at,
        user=user,
        key=key,
    )


def _optional_text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidArticle(f"{name}: expected text, got {type(value).__name__}")
    return value.strip() or None


def read_events(path: Path) -> Iterator[Event | RowProblem]:
    """Yield each event of an event file or MIND ``behaviors.tsv``, or a problem per bad row.

    Raises:
        UnreadableFile: the file as a whole cannot be read.
    """
    for item in _read_items(path, None):
        if not isinstance(item, Feedback):  # none without recommendation ids to check
            yield item


def _read_items(
    path: Path, ids: RecommendationIds | None
) -> Iterator[Event | Feedback | RowProblem]:
    if is_behaviors_file(path):
        yield from _mind_events(path)
        return
    rows: Iterable[Row | RowProblem]
    name = path.name.lower().removesuffix(".gz")
    rows = _read_csv(path) if name.endswith(".csv") else read_rows(path)
    for row in rows:
        if isinstance(row, RowProblem):
            yield row
            continue
        if ids is not None and _is_feedback(row.fields):
            yield from _feedback_items(row, ids)
            continue
        try:
            event = event_from_mapping(row.fields)
        except InvalidArticle as exc:
            yield RowProblem(row.source, row.line, str(exc))
            continue
        if event.key is None:
            # An anonymous row has nothing of its own to tell it from its twin: its content and
            # its line identify it, so reading the file again (after a kill, or twice) adds
            # nothing, while identical rows on different lines stay distinct events.
            anonymous = f"{event.article_id}|{event.kind}|{event.at.isoformat()}"
            event = replace(event, key=f"anon:{row.line}:{anonymous}")
        yield event


def _is_feedback(fields: Mapping[str, Any]) -> bool:
    kind = fields.get("kind")
    return fields.get("recommendation_id") not in (None, "") or (
        isinstance(kind, str) and kind.strip().lower() == "impression"
    )


def _feedback_items(row: Row, ids: RecommendationIds) -> Iterator[Event | Feedback | RowProblem]:
    # The checks of POST /events, so a file's feedback counts exactly as the service's would.
    try:
        at = parse_datetime(row.fields.get("at"), "at")
        if at is None:
            raise InvalidArticle("at: missing")
        user = _optional_text(row.fields, "user")
        kind = row.fields.get("kind")
        raw = {**row.fields, "kind": kind.strip().lower() if isinstance(kind, str) else kind}
        rows = feedback_from_mapping(raw, ids, at=at)
    except InvalidArticle as exc:
        yield RowProblem(row.source, row.line, str(exc))
        return
    except InvalidFeedback as exc:
        yield RowProblem(row.source, row.line, f"{exc.reason}: {exc}")
        return
    for feedback in rows:
        yield feedback
        if feedback.kind == "click":
            yield click_event(feedback, user=user)


def _mind_events(path: Path) -> Iterator[Event | RowProblem]:
    first = first_impressions(path)
    given: dict[str, int] = {}  # a hash of the history already given, per reader
    for item in read_behaviors(path):
        if isinstance(item, RowProblem):
            yield item
            continue
        yield from _history_views(item, first[item.user] - HISTORY_LEAD, given)
        for news_id in item.clicked:
            yield Event(
                news_id, "click", item.time, item.user, f"mind:{item.impression_id}:{news_id}"
            )


def _history_views(item: Impression, at: datetime, given: dict[str, int]) -> Iterator[Event]:
    # A reader's rows repeat their history: give it once per distinct history (the keys drop
    # repeats anyway, but would report them as already stored). A hash keeps memory per reader
    # small on the full MIND logs.
    fingerprint = hash(item.history)
    if not item.history or given.get(item.user) == fingerprint:
        return
    given[item.user] = fingerprint
    for news_id in dict.fromkeys(item.history):
        yield Event(news_id, "view", at, item.user, f"mind:history:{item.user}:{news_id}")


def _read_csv(path: Path) -> Iterator[Row | RowProblem]:
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        # Feedback rows name their answer, not an article: a file of impressions has no
        # article_id column.
        needed = {"kind", "at"} | (
            set() if "recommendation_id" in (reader.fieldnames or ()) else {"article_id"}
        )
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise UnreadableFile(
                f"{path}: CSV header must name article_id, kind and at "
                f"(found {', '.join(reader.fieldnames or [])})"
            )
        for record in reader:
            if None in record or any(value is None for value in record.values()):
                yield RowProblem(str(path), reader.line_num, "cell count differs from the header")
                continue
            yield Row(str(path), reader.line_num, record)


def record_events(
    paths: Sequence[Path],
    target: Path | str,
    *,
    recommendation_ids: RecommendationIds | None = None,
) -> EventReport:
    """Read event files and store their events beside the catalogue at ``target`` (its SQLite
    file or PostgreSQL URL).

    With ``recommendation_ids`` (the home's signer), rows that carry a ``recommendation_id`` are
    checked as feedback and stored in the feedback table; without, they are read as plain
    events.
    """
    report = EventReport()
    with ExitStack() as stack:
        store = stack.enter_context(EventStore(target))
        catalogue = stack.enter_context(Catalogue(target))
        feedback_store: FeedbackStore | None = None
        for path in paths:
            try:
                batch: list[Event] = []
                feedback: list[Feedback] = []
                for item in _read_items(path, recommendation_ids):
                    if isinstance(item, RowProblem):
                        report.rejected += 1
                        report.problems.append(item)
                        continue
                    if isinstance(item, Feedback):
                        feedback.append(item)
                    else:
                        batch.append(item)
                    if len(batch) >= _BATCH:
                        _store(store, catalogue, batch, report)
                        batch = []
                    if len(feedback) >= _BATCH:
                        feedback_store = feedback_store or stack.enter_context(
                            FeedbackStore(target)
                        )
                        _store_feedback(feedback_store, feedback, report)
                        feedback = []
                _store(store, catalogue, batch, report)
                if feedback:
                    feedback_store = feedback_store or stack.enter_context(FeedbackStore(target))
                    _store_feedback(feedback_store, feedback, report)
            except UnreadableFile as exc:
                report.unreadable.append(str(exc))
    return report


def _store_feedback(store: FeedbackStore, rows: list[Feedback], report: EventReport) -> None:
    added = store.add(rows)
    report.feedback_added += added
    report.feedback_already_stored += len(rows) - added


def _store(
    store: EventStore, catalogue: Catalogue, batch: list[Event], report: EventReport
) -> None:
    if not batch:
        return
    added = store.add(batch)
    report.added += added
    report.already_stored += len(batch) - added
    known = catalogue.content_hashes({event.article_id for event in batch})
    report.unknown_articles += sum(1 for event in batch if event.article_id not in known)
