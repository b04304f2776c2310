"""``newsrec ingest`` and ``newsrec events``: articles and reading events into a home."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from index import StorageError
from recommender.cli.app import (
    CatalogueOption,
    HomeOption,
    RayOption,
    StoreOption,
    app,
    console,
    error_console,
    fail,
    fail_storage,
    settings_for,
)
from recommender.cli.batch import on_ray
from recommender.settings import Settings


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            fail(f"--map {pair!r}: expected SOURCE=TARGET, e.g. headline=title", 2)
        mapping[source] = target
    return mapping


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="JSONL(.gz), CSV, Parquet or MIND files.")
    ] = None,
    home: HomeOption = None,
    map_: Annotated[
        list[str], typer.Option("--map", help="Rename a column: SOURCE=TARGET (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    wait: Annotated[float, typer.Option(help="Seconds to wait for another writer.")] = 0.0,
    vectors: Annotated[
        Path | None,
        typer.Option(
            "--vectors",
            metavar="SHARDS",
            help="Load articles with their vectors from `newsrec embed` shards (no model).",
            show_default=False,
        ),
    ] = None,
    ray: RayOption = None,
    catalogue: CatalogueOption = None,
    store: StoreOption = None,
) -> None:
    """Add or update articles; bad rows are reported and skipped, the good ones land.

    With --ray, the new index version's neighbour table is computed on Ray (the same table).
    """
    from index import LockedError
    from recommender.embedding.embedder import load_embedder
    from recommender.ingestion.ingest import ingest as run_ingest

    if vectors is not None:
        if paths:
            fail("give article files or --vectors SHARDS, not both", 2)
        settings = settings_for(home, catalogue_url=catalogue, store_url=store)
        _ingest_vectors(vectors, settings, wait, ray)
        return
    if not paths:
        fail("give article files to ingest, or --vectors SHARDS", 2)
    settings = settings_for(home, catalogue_url=catalogue, store_url=store)
    mapping = _parse_map(map_)
    try:
        with on_ray(ray) as target:
            report = run_ingest(
                paths,
                settings,
                lambda: load_embedder(settings),
                mapping=mapping,
                progress=sys.stderr.isatty(),
                lock_wait=wait,
                ray=target,
            )
    except LockedError as exc:
        fail(str(exc))
    except StorageError as exc:
        fail_storage(exc)
    _say_rejected(report.problems, report.unreadable)
    summary = (
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"rejected {report.rejected} in {report.seconds:.1f}s ({report.phases}); "
        f"index {report.index_version}"
    )
    if report.clicks_applied or report.unknown_click_ids:
        summary += (
            f"; {report.clicks_applied} clicks applied, "
            f"{report.unknown_click_ids} unknown news ids skipped"
        )
    console.print(summary, markup=False, highlight=False)
    if report.nothing_read:
        fail("nothing could be read from " + ", ".join(str(p) for p in paths), 2)


def _ingest_vectors(folder: Path, settings: Settings, wait: float, ray: str | None) -> None:
    from index import LockedError
    from recommender.ingestion.prepared import NoShards, ingest_vectors
    from recommender.ingestion.shards import ShardMismatch

    try:
        with on_ray(ray) as target:
            report = ingest_vectors(folder, settings, lock_wait=wait, ray=target)
    except (NoShards, ShardMismatch) as exc:
        fail(str(exc), 2)
    except LockedError as exc:
        fail(str(exc))
    except StorageError as exc:
        fail_storage(exc)
    for message in report.damaged:
        error_console.print(
            f"skipped damaged shard {message}", markup=False, highlight=False, soft_wrap=True
        )
    summary = (
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged} "
        f"from {report.shards} shards"
    )
    if report.damaged:
        summary += f"; {len(report.damaged)} damaged shards skipped ({report.not_loaded} rows)"
    summary += f" in {report.seconds:.1f}s; index {report.index_version}"
    console.print(summary, markup=False, highlight=False)
    if report.loaded == 0:
        fail(f"no article could be loaded from {folder}", 2)


@app.command()
def events(
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL(.gz)/CSV/Parquet events or MIND behaviors.tsv.")
    ],
    home: HomeOption = None,
) -> None:
    """Record reading events (views, clicks) that feed popularity and co-reading.

    Each row: article_id, kind (view or click), at (ISO 8601), optionally user and id. Every
    row is stored once however often its file is read (an anonymous row is keyed by its content
    and line), so an interrupted import can simply be rerun. A MIND behaviors.tsv gives its
    clicks, and its history reads as views one second before the reader's first impression.
    Impressions and clicks of served lists (kind impression or click with the answer's
    recommendation_id, a click's position, optionally list and visible) are checked against
    their id as POST /events checks them; rows that do not match are rejected.
    """
    from recommender.experiments.signer import checking_ids
    from recommender.ingestion.events import record_events

    settings = settings_for(home)
    try:
        ids = checking_ids(settings)  # writes nothing: the home may be read-only
    except (ValueError, OSError) as exc:
        fail(f"cannot read the key of recommendation ids: {exc}", 2)
    try:
        report = record_events(paths, settings.catalogue, recommendation_ids=ids)
    except StorageError as exc:
        fail_storage(exc)
    _say_rejected(report.problems, report.unreadable)
    console.print(
        f"stored {report.added} events, {report.already_stored} already stored, "
        f"rejected {report.rejected}; {report.unknown_articles} for articles not in the "
        "catalogue (kept: they count once the article arrives)",
        markup=False,
        highlight=False,
    )
    if report.feedback_added or report.feedback_already_stored:
        console.print(
            f"stored {report.feedback_added} impressions and clicks of served lists, "
            f"{report.feedback_already_stored} already stored",
            markup=False,
            highlight=False,
        )
    if report.nothing_read:
        fail("no event could be read from " + ", ".join(str(p) for p in paths), 2)


def _say_rejected(problems: Sequence[object], unreadable: Sequence[str]) -> None:
    """One line per rejected row (the first 50) and per unreadable file, on stderr."""
    for problem in problems[:50]:
        error_console.print(f"rejected {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(problems) > 50:
        error_console.print(f"... and {len(problems) - 50} more rejected rows", markup=False)
    for message in unreadable:
        error_console.print(f"unreadable {message}", markup=False, highlight=False, soft_wrap=True)
