"""The evaluation's own home directory: stripped articles ingested, never a serving index.

Every run ingests into a fresh home below its output folder. Vectors come from a
:class:`~evaluation.vector_cache.CachingEmbedder`, so a rerun embeds nothing it has embedded
before, whichever folder it writes to. Reads the engine may learn from are recorded as events
through the same path as ``newsrec events`` (an events file in the home).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation.datasets import EvalArticle
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
    reads: Mapping[str, Mapping[str, datetime]] | None = None,
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
            Ignored when ``reads`` are given: the engine then counts the reads itself.
        reads: ``{reader: {article: time}}`` recorded as click events naming the reader.
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
    counts = {} if reads else popularity or {}
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
    if reads:
        _record_reads(reads, home / "events.jsonl", settings)
    return settings


def _record_reads(
    reads: Mapping[str, Mapping[str, datetime]], path: Path, settings: Settings
) -> None:
    # In time order, each reader's reads in their own order: the order a live site stores them.
    rows = sorted(
        (
            (at, user, i, article)
            for user, articles in reads.items()
            for i, (article, at) in enumerate(articles.items())
        ),
        key=lambda row: (row[0], row[1], row[2]),
    )
    with path.open("w", encoding="utf-8") as handle:
        for at, user, _, article in rows:
            event = {"article_id": article, "kind": "click", "at": at.isoformat(), "user": user}
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    report = record_events([path], settings.catalogue_path)
    if report.rejected or report.unreadable:
        first = report.problems[0] if report.problems else report.unreadable[0]
        raise WorkspaceError(f"{path}: {report.rejected} events rejected, first: {first}")
