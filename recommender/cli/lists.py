"""``newsrec related`` and ``newsrec like``: an article's or a draft's lists, as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from recommender.cli.app import (
    HomeOption,
    KOption,
    app,
    console,
    fail,
    open_engine,
    settings_for,
)
from recommender.ranking.scoring import WeightError, Weights, weight_names
from recommender.serving.engine import RelatedLists, UnknownArticle
from recommender.serving.requests import DEFAULT_LISTS, ListRequest, parse_lists
from recommender.serving.views import lists_view
from recommender.settings import Settings

ListsOption = Annotated[
    str,
    typer.Option(help="The lists to show, comma-separated: more_like_this, related, popular."),
]


def _print_lists(lists: RelatedLists, as_json: bool, explain: bool) -> None:
    if as_json:
        console.print_json(json.dumps(lists_view(lists, explain=explain), ensure_ascii=False))
        return
    if lists.source is not None:
        source = lists.source
        when = source.published_at.strftime("%Y-%m-%d") if source.published_at else "undated"
        where = f"{source.id}, {source.section or '-'}, {when}"
        console.print(f"[bold]{source.title}[/bold]  ({where})")
    shown = (
        ("More like this", "more_like_this", lists.more_like_this),
        ("Related", "related", lists.related),
        ("Popular", "popular", lists.popular),
    )
    for name, key, items in shown:
        if not items and key not in lists.short:
            continue  # a list not asked for
        title = name + (f" (short: {lists.short[key]})" if key in lists.short else "")
        table = Table(title=title, title_justify="left", expand=False)
        for column in ("#", "id", "title", "date", "section", "score"):
            table.add_column(column, overflow="fold")
        if explain:
            table.add_column("why", overflow="fold")
        for rank, item in enumerate(items, start=1):
            article = item.article
            date = article.published_at.strftime("%Y-%m-%d") if article.published_at else ""
            row = [
                str(rank),
                article.id,
                article.title,
                date,
                article.section or "",
                f"{item.score:.3f}" + (" pinned" if item.pinned else ""),
            ]
            if explain:
                parts = " + ".join(f"{k} {v:.3f}" for k, v in (item.parts or {}).items())
                shared = ", ".join(item.shared_terms)
                row.append(parts + (f"; shares: {shared}" if shared else ""))
            table.add_row(*row)
        console.print(table)
    console.print(
        f"index {lists.index_version}"
        + (
            f"; missing signals: {', '.join(lists.signals_missing)}"
            if lists.signals_missing
            else ""
        ),
        style="dim",
    )


@app.command()
def related(
    article_id: Annotated[str, typer.Argument(help="The source article's id.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[
        bool, typer.Option(help="Show each score's parts and the terms shared with the source.")
    ] = False,
    section: Annotated[
        list[str], typer.Option(help="Only items from this section (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    exclude_section: Annotated[
        list[str], typer.Option(help="No items from this section (repeatable).")
    ] = [],  # noqa: B006
    language: Annotated[str | None, typer.Option(help="Only items in this language.")] = None,
    max_age: Annotated[
        float | None, typer.Option(min=0.0, help="Only items published at most D days ago.")
    ] = None,
    exclude: Annotated[
        list[str], typer.Option(help="Never show this article id (repeatable).")
    ] = [],  # noqa: B006
    weight: Annotated[
        list[str],
        typer.Option(
            "--weight",
            "-w",
            help=f"A weight for this request, NAME=VALUE (repeatable); names: {weight_names()}.",
        ),
    ] = [],  # noqa: B006
    lists: ListsOption = DEFAULT_LISTS,
) -> None:
    """Show More like this, Related and Popular for a published article (pins and blocks
    applied)."""
    settings = settings_for(home)
    weights = _weights(settings, weight)
    try:
        shown = parse_lists(lists)
        request = ListRequest(
            k_more=k if "more_like_this" in shown else 0,
            k_related=k if "related" in shown else 0,
            k_popular=k if "popular" in shown else 0,
            sections=frozenset(section),
            exclude_sections=frozenset(exclude_section),
            language=language,
            max_age_days=max_age,
            exclude_ids=frozenset(exclude),
            weights=weights,
            explain=explain,
        )
    except ValueError as exc:
        fail(str(exc), 2)
    engine = open_engine(settings)
    try:
        found = engine.lists_for(article_id, request)
    except UnknownArticle as exc:
        fail(str(exc), 2)
    _print_lists(found, as_json, explain)


@app.command()
def like(
    text: Annotated[str, typer.Argument(help="Draft text: a headline and/or lead.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[bool, typer.Option(help="Show each score's parts.")] = False,
    lists: ListsOption = DEFAULT_LISTS,
) -> None:
    """Show the lists for a draft that is not published yet."""
    if not text.strip():
        fail("the draft text is empty", 2)
    try:
        shown = parse_lists(lists)
    except ValueError as exc:
        fail(str(exc), 2)
    request = ListRequest(
        k_more=k if "more_like_this" in shown else 0,
        k_related=k if "related" in shown else 0,
        k_popular=k if "popular" in shown else 0,
        explain=explain,
    )
    engine = open_engine(settings_for(home))
    found = engine.lists_for_text(text, request)
    _print_lists(found, as_json, explain)


def _weights(settings: Settings, pairs: list[str]) -> Weights | None:
    """The configured weights with ``--weight NAME=VALUE`` pairs applied (None: none given)."""
    if not pairs:
        return None
    given: dict[str, float | None] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            fail(f"--weight {pair!r}: expected NAME=VALUE, e.g. w_pop=0.5", 2)
        try:
            given[name.strip()] = float(value)
        except ValueError:
            fail(f"--weight {pair!r}: expected NAME=VALUE with a number, e.g. w_pop=0.5", 2)
    try:
        weights = Weights.from_settings(settings).overridden(given)
    except WeightError as exc:
        fail(f"--weight: {exc}", 2)
    if weights.total() <= 0:
        fail(f"--weight: {weight_names()} must not all be 0", 2)
    return weights
