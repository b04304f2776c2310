"""MIND (Microsoft News Dataset) reading data: clicks and history reads from ``behaviors.tsv``.

MIND gives no time for a history read: a history lists what the reader clicked before the log's
window. :func:`first_impressions` gives each reader's earliest impression, and a history read is
stamped :data:`HISTORY_LEAD` before it, the latest moment it can have happened; so it counts
before every impression of its reader, and before nothing that came earlier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recommender.ingestion.files import RowProblem, UnreadableFile

__all__ = [
    "HISTORY_LEAD",
    "Impression",
    "click_counts",
    "first_impressions",
    "is_behaviors_file",
    "read_behaviors",
]

_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
#: How long before the reader's first impression a history read is stamped.
HISTORY_LEAD = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Impression:
    """One row of ``behaviors.tsv``: what a user had read and what they clicked next."""

    impression_id: str
    user: str
    time: datetime
    history: tuple[str, ...]
    clicked: tuple[str, ...]
    skipped: tuple[str, ...]


def is_behaviors_file(path: Path) -> bool:
    """True for a MIND ``behaviors.tsv`` (by name, or by its 5-column layout)."""
    if "behaviors" in path.name.lower():
        return True
    if path.suffix.lower() != ".tsv" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline().rstrip("\r\n").split("\t")
    return len(first) == 5 and first[0].isdigit()


def read_behaviors(path: Path) -> Iterator[Impression | RowProblem]:
    """Yield each impression of a MIND ``behaviors.tsv``, or a problem for a malformed line."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            cells = line.rstrip("\r\n").split("\t")
            if len(cells) != 5:
                yield RowProblem(str(path), number, f"expected 5 columns, got {len(cells)}")
                continue
            impression_id, user, when, history, impressions = cells
            try:
                time = datetime.strptime(when, _TIME_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                yield RowProblem(str(path), number, f"time {when!r} is not M/D/YYYY H:MM:SS AM")
                continue
            clicked: list[str] = []
            skipped: list[str] = []
            bad = False
            for token in impressions.split():
                news_id, _, label = token.rpartition("-")
                if label == "1" and news_id:
                    clicked.append(news_id)
                elif label == "0" and news_id:
                    skipped.append(news_id)
                else:
                    bad = True
            if bad:
                yield RowProblem(str(path), number, "impression tokens must look like N123-0/1")
                continue
            yield Impression(
                impression_id, user, time, tuple(history.split()), tuple(clicked), tuple(skipped)
            )


def first_impressions(path: Path) -> dict[str, datetime]:
    """Each reader's earliest impression time in a ``behaviors.tsv`` (malformed lines skipped)."""
    first: dict[str, datetime] = {}
    for item in read_behaviors(path):
        if isinstance(item, Impression) and (
            item.user not in first or item.time < first[item.user]
        ):
            first[item.user] = item.time
    return first


def click_counts(path: Path) -> tuple[Counter[str], list[RowProblem]]:
    """Clicks per news id over a whole ``behaviors.tsv``, and the malformed lines."""
    counts: Counter[str] = Counter()
    problems: list[RowProblem] = []
    for item in read_behaviors(path):
        if isinstance(item, RowProblem):
            problems.append(item)
        else:
            counts.update(item.clicked)
    return counts, problems
