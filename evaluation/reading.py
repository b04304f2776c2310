"""The reading events an evaluation's engine learns from, through the product's own loader.

Protocols never hand reads to the engine by themselves. They choose which rows of a reading log
the engine may see, as an :class:`EventLog` (a file name and its lines: the half-A rows of a
MIND ``behaviors.tsv``, or a synthetic JSONL log), and the evaluation home records that file with
:func:`recommender.ingestion.events.record_events`, the function behind ``newsrec events``. So a
site that loads the same file through the product serves the lists that were measured (MIND
history reads included, under the time rule of :mod:`recommender.ingestion.mind`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from evaluation.datasets import Dataset
from index.events import Event
from recommender.ingestion.events import read_events
from recommender.ingestion.files import RowProblem

__all__ = [
    "EventLog",
    "ReadingLogError",
    "behaviors_log",
    "log_events",
    "read_counts",
    "zipf_log",
]


class ReadingLogError(ValueError):
    """A reading log the product's loader refuses; the message names the file and row."""


@dataclass(frozen=True)
class EventLog:
    """A reading log for the evaluation home, written as ``name`` and loaded like any other.

    Attributes:
        name: the file name in the home; its form (``behaviors.tsv``, ``*.jsonl``) decides
            how the loader reads it, as for ``newsrec events``.
        lines: the file's lines, without line ends.
        about: one line for the report on what the engine sees.
    """

    name: str
    lines: tuple[str, ...]
    about: str

    def write(self, folder: Path) -> Path:
        """Write the log into ``folder``; returns its path."""
        path = folder / self.name
        path.write_text("".join(f"{line}\n" for line in self.lines), encoding="utf-8")
        return path


def behaviors_log(dataset: Dataset, users: Collection[str], *, about: str) -> EventLog:
    """The rows of ``dataset``'s ``behaviors.tsv`` files whose reader is one of ``users``."""
    lines: list[str] = []
    for path in dataset.behaviors:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                cells = line.rstrip("\r\n").split("\t")
                if len(cells) == 5 and cells[1] in users:
                    lines.append(line.rstrip("\r\n"))
    return EventLog("behaviors.tsv", tuple(lines), about)


def log_events(paths: Iterable[Path]) -> list[Event]:
    """Every event of ``paths`` as ``newsrec events`` reads them, in time order (stable).

    Raises:
        ReadingLogError: a row the loader rejects (an evaluation must see all it was given).
    """
    events: list[Event] = []
    for path in paths:
        for item in read_events(path):
            if isinstance(item, RowProblem):
                raise ReadingLogError(f"rejected {item}")
            events.append(item)
    events.sort(key=lambda event: event.at)
    return events


def read_counts(events: Iterable[Event]) -> dict[str, float]:
    """Reads per article: each reader once per article, each anonymous event once."""
    counts: dict[str, float] = {}
    seen: set[tuple[str, str]] = set()
    for event in events:
        if event.user is not None:
            if (event.user, event.article_id) in seen:
                continue
            seen.add((event.user, event.article_id))
        counts[event.article_id] = counts.get(event.article_id, 0.0) + 1.0
    return counts


def zipf_log(
    article_ids: Sequence[str],
    *,
    seed: int,
    reads: int,
    start: datetime,
    days: float,
    exponent: float = 1.1,
) -> EventLog:
    """A synthetic, heavy-tailed reading log: ``reads`` anonymous views over ``days``.

    Article ``i`` of a seeded shuffle is read with probability proportional to
    ``1 / (i + 1) ** exponent`` (Zipf), drawn independently of anything the articles say, so
    popularity can neither help nor hide behind missing events when relevance is judged.

    Raises:
        ValueError: no articles, ``reads`` < 1, or ``days`` / ``exponent`` not positive.
    """
    if not article_ids or reads < 1 or not days > 0 or not exponent > 0:
        raise ValueError(
            f"zipf_log needs articles, reads >= 1, days > 0 and exponent > 0 "
            f"(got {len(article_ids)}, {reads}, {days}, {exponent})"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(article_ids))
    weights = 1.0 / np.arange(1, len(article_ids) + 1, dtype=np.float64) ** exponent
    picks = order[rng.choice(len(article_ids), size=reads, p=weights / weights.sum())]
    offsets = np.sort(rng.random(reads)) * days * 86_400.0
    lines = tuple(
        json.dumps(
            {
                "id": f"zipf-{n}",
                "article_id": article_ids[int(pick)],
                "kind": "view",
                "at": (start + timedelta(seconds=float(offset))).isoformat(),
            }
        )
        for n, (pick, offset) in enumerate(zip(picks.tolist(), offsets.tolist(), strict=True))
    )
    about = f"{reads} synthetic views, Zipf exponent {exponent}, independent of topic (seed {seed})"
    return EventLog("events.jsonl", lines, about)
