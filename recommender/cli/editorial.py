"""Editors' overrides: ``pin``, ``block``, ``unpin``, ``unblock`` and ``overrides``.

The rules and the record are :mod:`recommender.operations.editorial`'s, shared with the HTTP
routes under ``/overrides``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from index import StorageError
from recommender.serving.requests import MAX_K
from recommender.settings import Settings

if TYPE_CHECKING:
    from index import Catalogue
    from index.overrides import Override, OverrideStore
    from recommender.operations.editorial import Made

from recommender.cli.app import (
    HomeOption,
    app,
    console,
    error_console,
    fail,
    require_home,
    settings_for,
)

ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who decides (default: your user name).", show_default=False),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        help="Stop applying then: a date (2026-10-12, through that day, UTC), a time "
        "(2026-10-12T18:00Z) or a duration (36h, 7d, 2w). Default: until removed.",
        show_default=False,
    ),
]
ReasonOption = Annotated[str, typer.Option(help="Why, for the record.")]


def _author(by: str | None) -> str:
    import getpass

    if by is not None and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _until(text: str | None) -> datetime | None:
    from recommender.operations.editorial import EditorialError, until_of

    try:
        return until_of(text)
    except EditorialError as exc:
        fail(str(exc), 2)


@contextmanager
def _editing(settings: Settings) -> Iterator[tuple[OverrideStore, Catalogue]]:
    """The override store and the catalogue of ``settings.home``, for one decision."""
    from index import Catalogue

    require_home(settings)  # before the catalogue opens: opening would create a missing home
    try:
        catalogue = Catalogue(settings.catalogue)
    except StorageError as exc:
        fail(str(exc))
    with catalogue, _override_store(settings) as store:
        yield store, catalogue


def _record(settings: Settings, decide: Callable[[OverrideStore, Catalogue], Made]) -> None:
    from recommender.operations.editorial import EditorialError, describe

    with _editing(settings) as (store, catalogue):
        try:
            made = decide(store, catalogue)
        except EditorialError as exc:
            fail(str(exc), 2)
        except StorageError as exc:
            fail(str(exc))
    console.print(describe(made.override), markup=False, highlight=False)
    for warning in made.warnings:
        error_console.print(f"warning: {warning}", markup=False, highlight=False)


def _override_store(settings: Settings) -> OverrideStore:
    from index.overrides import OverrideStore

    require_home(settings)  # an editor's command on a mistyped home must not create one
    try:
        return OverrideStore(settings.catalogue)
    except StorageError as exc:
        fail(str(exc))


def _describe(override: Override) -> str:
    # Imported here: the editorial rules are not needed to start the CLI.
    from recommender.operations.editorial import describe

    return describe(override)


def _when(moment: datetime | None) -> str:
    from recommender.operations.editorial import when_text

    return when_text(moment)


@app.command()
def pin(
    source: Annotated[str, typer.Argument(help="The article whose list gets the pin.")],
    target: Annotated[str, typer.Argument(help="The article to put into that list.")],
    position: Annotated[int, typer.Option(min=1, max=MAX_K, help="Place in the list, from 1.")] = 1,
    list_: Annotated[
        Literal["related", "more_like_this"],
        typer.Option("--list", help="The list to pin into: related or more_like_this."),
    ] = "related",
    until: UntilOption = None,
    reason: ReasonOption = "",
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Put TARGET into SOURCE's Related list (or --list more_like_this) at a position, whatever
    its score."""
    from recommender.operations.editorial import pin_article

    settings = settings_for(home)
    expires = _until(until)
    _record(
        settings,
        lambda store, catalogue: pin_article(
            store,
            catalogue,
            source,
            target,
            position=position,
            list_name=list_,
            until=expires,
            reason=reason,
            by=_author(by),
        ),
    )


@app.command()
def block(
    target: Annotated[str, typer.Argument(help="The article to keep out of lists.")],
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Only out of this article's lists (default: every list).",
            show_default=False,
        ),
    ] = None,
    until: UntilOption = None,
    reason: ReasonOption = "",
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Keep TARGET out of one article's lists (--for SOURCE) or out of every list."""
    from recommender.operations.editorial import block_article

    settings = settings_for(home)
    expires = _until(until)
    _record(
        settings,
        lambda store, catalogue: block_article(
            store, catalogue, target, source=for_, until=expires, reason=reason, by=_author(by)
        ),
    )


overrides_app = typer.Typer(
    help="List editorial pins and blocks (with who, when, why, until) or remove one.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(overrides_app, name="overrides")


@overrides_app.callback()
def overrides(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Also those removed or expired.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    home: HomeOption = None,
) -> None:
    """List the pins and blocks in force (or, with --all, every one ever made)."""
    from recommender.operations.editorial import listed_overrides, override_view, state_of

    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(home)
    now = datetime.now(UTC)
    with _override_store(settings) as store:
        rows = listed_overrides(store, now, all_)

    if as_json:
        payload = [override_view(o, now) for o in rows]
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if not rows:
        console.print(
            "no overrides" + ("" if all_ else " in force (--all shows past ones)"), markup=False
        )
        return
    table = Table(title="Overrides", title_justify="left")
    columns = ("id", "kind", "lists of", "target", "into", "#", "by", "when", "why", "until")
    for column in (*columns, "state"):
        table.add_column(column, overflow="fold")
    for o in rows:
        table.add_row(
            str(o.id),
            o.kind,
            o.source_id or "every list",
            o.target_id,
            o.list_name if o.kind == "pin" else "",
            str(o.position) if o.position else "",
            o.created_by,
            _when(o.created_at),
            o.reason,
            _when(o.until),
            state_of(o, now),
        )
    console.print(table)


@overrides_app.command("remove")
def overrides_remove(
    override_id: Annotated[int, typer.Argument(help="The override's id (see newsrec overrides).")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Stop an override from applying (it stays on record as removed)."""
    from index.overrides import UnknownOverride

    with _override_store(settings_for(home)) as store:
        try:
            removed = store.remove(override_id, by=_author(by))
        except UnknownOverride as exc:
            fail(str(exc), 2)
    console.print(f"removed {_describe(removed)}", markup=False, highlight=False)


def _remove_matching(
    settings: Settings, kind: str, target: str, source: str | None, by: str | None
) -> None:
    with _override_store(settings) as store:
        matching = [
            o
            for o in store.in_force()
            if o.kind == kind and o.target_id == target and o.source_id == source
        ]
        if not matching:
            where = f" for {source}" if source else ""
            fail(f"no {kind} of {target}{where} in force (see newsrec overrides)", 2)
        for o in matching:
            store.remove(o.id, by=_author(by))
            console.print(f"removed {_describe(o)}", markup=False, highlight=False)


@app.command()
def unpin(
    source: Annotated[str, typer.Argument(help="The article whose list has the pin.")],
    target: Annotated[str, typer.Argument(help="The pinned article.")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Remove the pins of TARGET in SOURCE's lists (Related and More like this)."""
    _remove_matching(settings_for(home), "pin", target, source, by)


@app.command()
def unblock(
    target: Annotated[str, typer.Argument(help="The blocked article.")],
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="The list it was blocked from (default: the every-list block).",
            show_default=False,
        ),
    ] = None,
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Remove the blocks of TARGET (for one article's lists with --for, else for every list)."""
    _remove_matching(settings_for(home), "block", target, for_, by)
