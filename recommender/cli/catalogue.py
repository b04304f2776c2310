"""``newsrec migrate`` and ``newsrec copy-catalogue``: the catalogue's schema, and moving a home
between SQLite and a shared PostgreSQL catalogue."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from index import StorageError
from recommender.cli.app import (
    CatalogueOption,
    HomeOption,
    app,
    console,
    fail,
    fail_storage,
    settings_for,
)

_CATALOGUE_FILE = "catalogue.sqlite"


@app.command()
def migrate(home: HomeOption = None, catalogue: CatalogueOption = None) -> None:
    """Create the catalogue's tables, or bring them to this version's schema; safe to rerun.

    Run it once before the first replica starts on a new PostgreSQL database, and after each
    upgrade of newsrec, from one machine; replicas and jobs migrate nothing while they run.
    """
    from index.migration import migrate as run_migrations
    from index.targets import redacted

    settings = settings_for(home, catalogue_url=catalogue)
    target = settings.catalogue
    try:
        versions = run_migrations(target)
    except StorageError as exc:
        fail_storage(exc)
    found = ", ".join(f"{group} {version}" for group, version in sorted(versions.items()))
    console.print(
        f"{redacted(target)}: schema up to date ({found})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command("copy-catalogue")
def copy_catalogue(
    source: Annotated[
        str, typer.Argument(metavar="SRC", help="A home, a catalogue.sqlite file or a URL.")
    ],
    dest: Annotated[
        str,
        typer.Argument(
            metavar="DEST", help="A new home or .sqlite file, or an empty PostgreSQL database."
        ),
    ],
) -> None:
    """Copy everything a catalogue holds (articles with their vectors, the change log, events,
    overrides with their audit trail, feedback) from SRC to DEST, then compare row counts and
    checksums of every table; exit 1 if anything differs.

    DEST must hold no articles. A new SQLite file appears only once complete. The indexes
    are not copied: publish one from DEST with `newsrec reindex`.
    """
    from index.copying import copy_catalogue as run_copy
    from index.targets import redacted

    src = _target(source, must_exist=True)
    target = _target(dest, must_exist=False)
    if src == target:
        fail(f"{redacted(src)}: source and destination are the same catalogue", 2)
    staged: Path | None = None
    if isinstance(target, Path) and not target.exists():
        # A new file is written under a temporary name and renamed when complete, so a copy
        # that fails or is killed never leaves a partial catalogue where a home is expected.
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.copying-{os.getpid()}")
    try:
        report = run_copy(src, staged or target)
        if staged is not None:
            os.replace(staged, target)
    except StorageError as exc:
        fail_storage(exc)
    finally:
        if staged is not None:
            for leftover in (staged, *(Path(f"{staged}{s}") for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
    rows = ", ".join(f"{table} {count}" for table, count in report.counts.items())
    console.print(
        f"copied {redacted(src)} to {redacted(target)}: {rows}; counts and checksums match",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _target(given: str, *, must_exist: bool) -> Path | str:
    """A URL as it is; a home folder as its catalogue file; a file as it is."""
    from index.targets import is_database_url

    if is_database_url(given):
        return given
    path = Path(given)
    if path.is_dir() or (not path.exists() and path.suffix != ".sqlite"):
        path = path / _CATALOGUE_FILE
    if must_exist and not path.is_file():
        fail(f"{given}: no catalogue here (no {path})", 2)
    return path
