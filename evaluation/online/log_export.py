"""Logged impressions and clicks as a MIND ``behaviors.tsv``, for offline replay.

One row per logged impression (a :class:`~index.feedback.Feedback` of kind ``impression``)::

    IMPRESSION_ID <TAB> READER <TAB> TIME <TAB> SOURCE <TAB> ID-L ID-L ...

The impression id is the feedback key (``imp:{nonce}:{list}``), the reader its hash (``-`` when
anonymous), the time MIND's ``M/D/YYYY H:MM:SS AM`` in UTC, the history the source article (empty
for a draft text), and the impressions the shown ids in served order (only the visible
positions when the impression names them; a clicked position not named visible is kept, and
counted), each ``-1`` when a click on its position in the same served list (same recommendation
nonce and list) was logged, else ``-0``. A click whose impression was not logged is counted in
the report, never turned into an impression.
:func:`recommender.ingestion.mind.read_behaviors` reads the file back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evaluation.online.served import ServedList, served_lists
from index.feedback import Feedback

__all__ = ["MIND_TIME_FORMAT", "ExportReport", "export_log"]

#: The time format of MIND's ``behaviors.tsv`` (read by :mod:`recommender.ingestion.mind`).
MIND_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What :func:`export_log` wrote and what it could not place.

    Attributes:
        path: the file written.
        impressions: rows written (one per logged impression).
        clicks: clicks marked ``-1`` on a written row.
        clicks_without_impression: clicks whose served list has no logged impression.
        clicks_outside_visible: clicks on a position the impression did not name as visible;
            the clicked item is written (the reader saw it) and counted here.
        empty_impressions: impressions with no item to show, left out.
        skipped: feedback rows of another experiment or variant than asked for.
    """

    path: Path
    impressions: int
    clicks: int
    clicks_without_impression: int
    clicks_outside_visible: int
    empty_impressions: int
    skipped: int


def _token(value: str, what: str, key: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"feedback {key!r}: {what} {value!r} is empty or holds white space")
    return value


def _written(listed: ServedList, impression: Feedback) -> tuple[list[tuple[str, int]], int]:
    """The (id, clicked) pairs to write in served order, and how many clicks were not visible."""
    pairs: dict[str, int] = {}
    outside = 0
    for position, article_id in enumerate(impression.shown, start=1):
        clicked = position in listed.clicked
        if listed.seen(position) or clicked:
            outside += int(clicked and not listed.seen(position))
            pairs[article_id] = max(pairs.get(article_id, 0), int(clicked))
    return list(pairs.items()), outside


def _line(impression: Feedback, pairs: list[tuple[str, int]]) -> str:
    key = _token(impression.key, "key", impression.key)
    reader = _token(impression.reader, "reader", key) if impression.reader else "-"
    when = impression.at.astimezone(UTC).strftime(MIND_TIME_FORMAT)
    source = _token(impression.source, "source", key) if impression.source else ""
    cells = " ".join(f"{_token(i, 'article id', key)}-{label}" for i, label in pairs)
    return f"{key}\t{reader}\t{when}\t{source}\t{cells}\n"


def _write_atomically(out: Path, lines: Iterable[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.writelines(lines)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_log(
    rows: Iterable[Feedback], out: Path, *, experiment: str | None, variant: str | None
) -> ExportReport:
    """Write the logged impressions of ``rows`` to ``out`` in MIND ``behaviors.tsv`` form.

    ``experiment`` and ``variant``, when given, keep only the feedback of that experiment or
    variant. Impressions and clicks are joined as the online report joins them
    (:func:`evaluation.online.served.served_lists`: by recommendation nonce and list, a click
    marking its position). Rows are written in time order, then by key.
    The file is written to a temporary name, then renamed.

    Raises:
        ValueError: a key, reader or article id that is empty or holds white space (it would
            break the tab- and space-separated form).
    """
    kept: list[Feedback] = []
    skipped = 0
    for row in rows:
        if (experiment is None or row.experiment == experiment) and (
            variant is None or row.variant == variant
        ):
            kept.append(row)
        else:
            skipped += 1
    served = served_lists(kept)
    # served_lists keeps the first impression row of each list; so does this map.
    first: dict[tuple[str, str], Feedback] = {}
    for row in kept:
        if row.kind == "impression":
            first.setdefault((row.recommendation, row.list_name), row)
    lines: list[tuple[datetime, str, str]] = []
    marked = outside = empty = 0
    for listed in served.lists:
        impression = first[(listed.recommendation, listed.list_name)]
        pairs, hidden = _written(listed, impression)
        if not pairs:
            empty += 1
            continue
        lines.append((impression.at, impression.key, _line(impression, pairs)))
        marked += sum(label for _, label in pairs)
        outside += hidden
    lines.sort(key=lambda entry: (entry[0], entry[1]))
    _write_atomically(out, (line for _, _, line in lines))
    return ExportReport(
        path=out,
        impressions=len(lines),
        clicks=marked,
        clicks_without_impression=len(served.orphan_clicks),
        clicks_outside_visible=outside,
        empty_impressions=empty,
        skipped=skipped,
    )
