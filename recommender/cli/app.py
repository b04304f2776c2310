"""The ``newsrec`` Typer app and what every command shares: the home option, output, errors.

Every failure ends with one line on stderr saying what is wrong and where, and a non-zero exit
code: 1 for a failed job, 2 for a bad command line, bad input or a broken disk (full or
read-only: nothing in the home is wrong, the disk must be fixed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from index import DiskError, StorageError
from recommender.serving.engine import Engine
from recommender.serving.requests import MAX_K
from recommender.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    pass

__all__ = [
    "LAZY_LIBRARIES",
    "CatalogueOption",
    "HomeOption",
    "KOption",
    "StoreOption",
    "app",
    "console",
    "error_console",
    "fail",
    "fail_storage",
    "open_engine",
    "require_home",
    "say_error",
    "settings_for",
]

#: Libraries that only embedding, evaluation, tuning or a PostgreSQL catalogue use, each 0.1 to 3 s
#: to import: a command that needs none of them starts without them (commands import them where
#: they are used; tests/recommender/cli/test_cli_start.py checks it, scripts/cli_start.py times it).
LAZY_LIBRARIES = frozenset(
    {
        "sklearn",
        "scipy",
        "torch",
        "sentence_transformers",
        "transformers",
        "openvino",
        "pandas",
        "psycopg",
    }
)

app = typer.Typer(
    name="newsrec",
    help="Related-article recommendations for news sites: ingest, query, serve, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
error_console = Console(stderr=True)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        console.print(f"newsrec {version('newsrec')}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print newsrec's version and exit.",
        ),
    ] = False,
) -> None:
    """Related-article recommendations for news sites: ingest, query, serve, evaluate."""


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Home directory (default ./.newsrec, or $NEWSREC_HOME).", show_default=False
    ),
]
CatalogueOption = Annotated[
    str | None,
    typer.Option(
        "--catalogue",
        metavar="URL",
        help="A shared PostgreSQL catalogue, postgresql://... (default: $NEWSREC_CATALOGUE_URL, "
        "else the SQLite file in the home).",
        show_default=False,
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URI",
        help="The shared index store: a folder or an fsspec URI (default: $NEWSREC_STORE_URL).",
        show_default=False,
    ),
]


# Where batch work runs (issue 18): absent, in this process as always; ``local``, on a Ray
# started in this process; an address (``auto``, ``ray://head:10001``), on a running cluster.
RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="local|ADDRESS",
        help="Run on Ray: 'local' starts one here; 'auto' or ray://HOST:PORT joins a cluster.",
        show_default=False,
    ),
]


def say_error(message: str) -> None:
    error_console.print(f"newsrec: error: {message}", markup=False, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    say_error(message)
    raise typer.Exit(code)


def fail_storage(exc: StorageError) -> NoReturn:
    """Fail with a storage error's message: exit 2 for a broken disk, else 1."""
    fail(str(exc), 2 if isinstance(exc, DiskError) else 1)


def settings_for(home: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(home=home, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        fail(f"setting {where}: {first['msg']}", 2)
    except SettingsError as exc:
        fail(str(exc), 2)


def require_home(settings: Settings) -> None:
    """Fail with exit 2 unless ``settings.home`` holds a catalogue: a command that only reads
    must not create an empty home and answer from it as if it were one. A home on a shared
    PostgreSQL catalogue is the database's: its folder only holds a local index copy."""
    if not settings.shared_catalogue and not settings.catalogue_path.is_file():
        fail(
            f"{settings.home}: no newsrec home here (no {settings.catalogue_path.name}); "
            "create one with `newsrec ingest --home DIR FILE`, or give --home or $NEWSREC_HOME",
            2,
        )


def open_engine(settings: Settings, *, create: bool = False) -> Engine:
    """The engine over ``settings.home``; a missing home fails (exit 2) unless ``create``."""
    if not create:
        require_home(settings)
    try:
        return Engine(settings)
    except StorageError as exc:
        fail_storage(exc)


KOption = Annotated[int, typer.Option("-k", "--k", min=0, max=MAX_K, help="Items per list.")]
