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
from recommender.serving.engine import RelatedLists, UnknownArticle
from recommender.serving.requests import ListRequest
from recommender.serving.views import lists_view


def _print_lists(lists: RelatedLists, as_json: bool, explain: bool) -> None:
    if as_json:
        console.print_json(json.dumps(lists_view(lists, explain=explain), ensure_ascii=False))
        return
    if lists.source is not None:
        source = lists.source
        when = source.published_at.strftime("%Y-%m-%d") if source.published_at else "undated"
        where = f"{source.id}, {source.section or '-'}, {when}"
        console.print(f"[bold]{source.title}[/bold]  ({where})")
    for name, items in (("More like this", lists.more_like_this), ("Related", lists.related)):
        table = Table(title=name, title_justify="left", expand=False)
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
    w_sim: Annotated[float | None, typer.Option(min=0.0, help="Weight of similarity.")] = None,
    w_rec: Annotated[float | None, typer.Option(min=0.0, help="Weight of recency.")] = None,
    w_pop: Annotated[float | None, typer.Option(min=0.0, help="Weight of popularity.")] = None,
    w_coread: Annotated[
        float | None, typer.Option(min=0.0, help="Weight of co-reading (readers also read).")
    ] = None,
) -> None:
    """Show More like this and Related for a published article (pins and blocks applied)."""
    from recommender.ranking.scoring import Weights

    settings = settings_for(home)
    weights = None
    if (w_sim, w_rec, w_pop, w_coread) != (None, None, None, None):
        weights = Weights.from_settings(settings).overridden(w_sim, w_rec, w_pop, w_coread)
        if weights.total() <= 0:
            fail("--w-sim, --w-rec, --w-pop and --w-coread must not all be 0", 2)
    try:
        request = ListRequest(
            k_more=k,
            k_related=k,
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
        lists = engine.lists_for(article_id, request)
    except UnknownArticle as exc:
        fail(str(exc), 2)
    _print_lists(lists, as_json, explain)


@app.command()
def like(
    text: Annotated[str, typer.Argument(help="Draft text: a headline and/or lead.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[bool, typer.Option(help="Show each score's parts.")] = False,
) -> None:
    """Show both lists for a draft that is not published yet."""
    if not text.strip():
        fail("the draft text is empty", 2)
    engine = open_engine(settings_for(home))
    lists = engine.lists_for_text(text, ListRequest(k_more=k, k_related=k, explain=explain))
    _print_lists(lists, as_json, explain)
