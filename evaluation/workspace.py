"""The evaluation's own home directory: stripped articles ingested, never a serving index.

Every run ingests into a fresh home below its output folder. Vectors come from a
:class:`~evaluation.vector_cache.CachingEmbedder`, so a rerun embeds nothing it has embedded
before, whichever folder it writes to. The reading log the engine may learn from is written
into the home and recorded by the function behind ``newsrec events``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.datasets import EvalArticle
from evaluation.reading import EventLog
from recommender.embedding.embedder import Embedder
from recommender.ingestion.events import record_events
from recommender.ingestion.ingest import ingest
from recommender.settings import Settings

__all__ = ["WorkspaceError", "prepare_home"]


class WorkspaceError(RuntimeError):
    """The evaluation home could not be built; the message says why."""


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif hasattr(value, "tolist"):
            out[key] = value.tolist()
        else:
            out[key] = value
    return out


def prepare_home(
    articles: Sequence[EvalArticle],
    home: Path,
    *,
    embedder: Embedder,
    popularity: Mapping[str, float] | None = None,
    events: EventLog | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Settings:
    """Ingest ``articles`` (label fields already stripped) into a fresh home at ``home``.

    Args:
        articles: what the engine may see.
        home: the evaluation home; anything already there is removed first.
        embedder: embeds the articles (typically a caching embedder).
        popularity: counts to give the engine (e.g. clicks of one half of the users); any
            popularity in the input files is dropped, so no count leaks from judged readers.
            Ignored when ``events`` are given: the engine then counts the events itself.
        events: a reading log, written into the home and recorded as ``newsrec events``
            records it.
        settings_overrides: setting values for this evaluation (weights, half-lives ...).
        progress: show the ingest progress bar.

    Returns:
        The settings of the new home.

    Raises:
        WorkspaceError: when ``home`` looks like a serving home, or ingest rejects rows or
            events.
    """
    if home.exists():
        if not (home / ".newsrec-evaluation").is_file():
            raise WorkspaceError(
                f"{home}: exists and is not an evaluation home; refusing to overwrite it"
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / ".newsrec-evaluation").write_text("evaluation home; safe to delete\n")
    counts = {} if events else popularity or {}
    feed = home / "articles.jsonl"
    with feed.open("w", encoding="utf-8") as handle:
        for article in articles:
            fields = _jsonable(article.fields)
            fields["popularity"] = float(counts.get(article.id, 0.0))
            handle.write(json.dumps(fields, ensure_ascii=False) + "\n")
    overrides = dict(settings_overrides or {})
    overrides.pop("home", None)
    settings = Settings(home=home, **overrides)
    report = ingest([feed], settings, lambda: embedder, progress=progress)
    if report.rejected:
        raise WorkspaceError(
            f"{feed}: ingest rejected {report.rejected} rows, first: {report.problems[0]}"
        )
    if events:
        _record(events.write(home), settings)
    return settings


def _record(path: Path, settings: Settings) -> None:
    report = record_events([path], settings.catalogue_path)
    if report.rejected or report.unreadable:
        first = report.problems[0] if report.problems else report.unreadable[0]
        raise WorkspaceError(f"{path}: {report.rejected} events rejected, first: {first}")
