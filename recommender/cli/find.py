"""``newsrec find``: an article's id from words of its headline or from its URL."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from index import Catalogue, StorageError
from recommender.cli.app import (
    HomeOption,
    app,
    console,
    fail,
    fail_storage,
    require_home,
    settings_for,
)
from recommender.serving.lookup import MAX_FOUND, InvalidQuery, find_articles
from recommender.serving.views import article_view


@app.command()
def find(
    query: Annotated[str, typer.Argument(help="Words of the headline, or the article's URL.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_FOUND, help="Articles at most.")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    home: HomeOption = None,
) -> None:
    """Find published articles whose headline or URL holds every word of QUERY (the one whose
    URL or id is QUERY first, then headlines with the words in order, then the newest)."""
    settings = settings_for(home)
    require_home(settings)
    try:
        with Catalogue(settings.catalogue, readonly=True) as catalogue:
            found = find_articles(catalogue, query, limit)
    except InvalidQuery as exc:
        fail(str(exc), 2)
    except StorageError as exc:
        fail_storage(exc)
    if as_json:
        payload = {
            "query": found.query,
            "articles": [article_view(record) for record in found.articles],
            "more": found.more,
        }
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if not found.articles:
        console.print(f"no published article has {found.query!r} in its headline or URL")
        raise typer.Exit(1)
    table = Table(title=f"Articles matching {found.query!r}", title_justify="left")
    table.add_column("id", no_wrap=True)  # the id is what the reader came for: never folded
    for column in ("published", "section", "title", "url"):
        table.add_column(column, overflow="fold")
    for record in found.articles:
        published = record.published_at.strftime("%Y-%m-%d") if record.published_at else ""
        table.add_row(record.id, published, record.section or "", record.title, record.url or "")
    console.print(table)
    if found.more:
        console.print(f"more match: --limit {min(limit * 2, MAX_FOUND)} shows more", style="dim")
