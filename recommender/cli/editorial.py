"""Editors' overrides: ``pin``, ``block``, ``unpin``, ``unblock`` and ``overrides``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from index import StorageError
from recommender.serving.requests import MAX_K
from recommender.settings import Settings

if TYPE_CHECKING:
    from index.overrides import Override, OverrideStore

from recommender.cli.app import (
    HomeOption,
    app,
    console,
    error_console,
    fail,
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
    from recommender.ranking.overrides import InvalidUntil, parse_until

    if text is None:
        return None
    try:
        when = parse_until(text)
    except InvalidUntil as exc:
        fail(str(exc), 2)
    if when <= datetime.now(UTC):
        fail(f"--until {text!r} is already past ({when.isoformat()})", 2)
    return when


def _require_published(settings: Settings, *article_ids: str) -> None:
    from index import Catalogue

    try:
        with Catalogue(settings.catalogue_path) as catalogue:
            for article_id in article_ids:
                if catalogue.get(article_id) is None:
                    fail(f"no published article with id {article_id!r}", 2)
    except StorageError as exc:
        fail(str(exc))


def _override_store(settings: Settings) -> OverrideStore:
    from index.overrides import OverrideStore

    try:
        return OverrideStore(settings.catalogue_path)
    except StorageError as exc:
        fail(str(exc))


def _describe(override: Override) -> str:
    where = f"{override.source_id}'s lists" if override.source_id else "every list"
    if override.kind == "pin":
        what = (
            f"pin {override.id}: {override.target_id} at #{override.position} "
            f"of Related for {override.source_id}"
        )
    else:
        what = f"block {override.id}: {override.target_id} kept out of {where}"
    until = f" until {_when(override.until)}" if override.until else ""
    return f"{what}{until} (by {override.created_by})"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


@app.command()
def pin(
    source: Annotated[str, typer.Argument(help="The article whose Related list gets the pin.")],
    target: Annotated[str, typer.Argument(help="The article to put into that list.")],
    position: Annotated[int, typer.Option(min=1, max=MAX_K, help="Place in Related, from 1.")] = 1,
    until: UntilOption = None,
    reason: ReasonOption = "",
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Put TARGET into SOURCE's Related list at a position, whatever its score."""
    from index.overrides import OverrideError

    settings = settings_for(home)
    if source == target:
        fail(f"cannot pin {target!r} into its own list", 2)
    _require_published(settings, source, target)
    expires = _until(until)
    with _override_store(settings) as store:
        try:
            made = store.pin(
                source, target, position=position, until=expires, reason=reason, by=_author(by)
            )
        except OverrideError as exc:
            fail(str(exc), 2)
        blocks = [
            o
            for o in store.in_force()
            if o.kind == "block"
            and o.target_id == target
            and o.source_id in (None, source)
            and o.active_at(datetime.now(UTC))
        ]
    console.print(_describe(made), markup=False, highlight=False)
    for block_ in blocks:
        error_console.print(
            f"warning: {target} is blocked (override {block_.id}); blocks win over pins",
            markup=False,
            highlight=False,
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
    from index.overrides import OverrideError

    settings = settings_for(home)
    _require_published(settings, target, *([for_] if for_ else []))
    expires = _until(until)
    with _override_store(settings) as store:
        try:
            made = store.block(target, source_id=for_, until=expires, reason=reason, by=_author(by))
        except OverrideError as exc:
            fail(str(exc), 2)
    console.print(_describe(made), markup=False, highlight=False)


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
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(home)
    now = datetime.now(UTC)
    with _override_store(settings) as store:
        rows = store.all() if all_ else [o for o in store.in_force() if o.active_at(now)]

    def state(o: Override) -> str:
        if o.removed_at is not None:
            return f"removed {_when(o.removed_at)} by {o.removed_by}"
        return "active" if o.active_at(now) else "expired"

    if as_json:
        payload = [
            {
                "id": o.id,
                "kind": o.kind,
                "source": o.source_id,
                "target": o.target_id,
                "position": o.position,
                "by": o.created_by,
                "at": o.created_at.isoformat(),
                "reason": o.reason,
                "until": o.until.isoformat() if o.until else None,
                "active": o.active_at(now),
                "state": state(o),
            }
            for o in rows
        ]
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if not rows:
        console.print(
            "no overrides" + ("" if all_ else " in force (--all shows past ones)"), markup=False
        )
        return
    table = Table(title="Overrides", title_justify="left")
    for column in ("id", "kind", "list of", "target", "#", "by", "when", "why", "until", "state"):
        table.add_column(column, overflow="fold")
    for o in rows:
        table.add_row(
            str(o.id),
            o.kind,
            o.source_id or "every list",
            o.target_id,
            str(o.position) if o.position else "",
            o.created_by,
            _when(o.created_at),
            o.reason,
            _when(o.until),
            state(o),
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
    source: Annotated[str, typer.Argument(help="The article whose Related list has the pin.")],
    target: Annotated[str, typer.Argument(help="The pinned article.")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Remove the pins of TARGET in SOURCE's Related list."""
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
