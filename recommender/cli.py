"""The ``newsrec`` command line: the one composition root, free to import every package.

Every failure ends with one line on stderr saying what is wrong and where, and a non-zero exit
code: 1 for a failed job, 2 for a bad command line or bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from index import StorageError
from recommender.engine import Engine, RelatedLists, UnknownArticle
from recommender.requests import MAX_K, ListRequest
from recommender.settings import Settings, SettingsFileError, load_settings
from recommender.views import lists_view

__all__ = ["app", "main"]

app = typer.Typer(
    name="newsrec",
    help="Related-article recommendations for news sites: ingest, query, serve, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Home directory (default ./.newsrec, or $NEWSREC_HOME).",
                 show_default=False),
]


def _fail(message: str, code: int = 1) -> NoReturn:
    _err.print(f"newsrec: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _settings(home: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(home=home, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        _fail(f"setting {where}: {first['msg']}", 2)
    except SettingsFileError as exc:
        _fail(str(exc), 2)


def _engine(settings: Settings) -> Engine:
    try:
        return Engine(settings)
    except StorageError as exc:
        _fail(str(exc))


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            _fail(f"--map {pair!r}: expected SOURCE=TARGET, e.g. headline=title", 2)
        mapping[source] = target
    return mapping


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="JSONL(.gz), CSV, Parquet or MIND files.")],
    home: HomeOption = None,
    map_: Annotated[
        list[str], typer.Option("--map", help="Rename a column: SOURCE=TARGET (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    wait: Annotated[float, typer.Option(help="Seconds to wait for another writer.")] = 0.0,
) -> None:
    """Add or update articles; bad rows are reported and skipped, the good ones land."""
    from index import LockedError
    from recommender.embedding import load_embedder
    from recommender.ingest import ingest as run_ingest

    settings = _settings(home)
    mapping = _parse_map(map_)
    try:
        report = run_ingest(
            paths,
            settings,
            lambda: load_embedder(settings),
            mapping=mapping,
            progress=sys.stderr.isatty(),
            lock_wait=wait,
        )
    except LockedError as exc:
        _fail(str(exc))
    for problem in report.problems[:50]:
        _err.print(f"rejected {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(report.problems) > 50:
        _err.print(f"... and {len(report.problems) - 50} more rejected rows", markup=False)
    for message in report.unreadable:
        _err.print(f"unreadable {message}", markup=False, highlight=False, soft_wrap=True)
    summary = (
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"rejected {report.rejected} in {report.seconds:.1f}s; index {report.index_version}"
    )
    if report.clicks_applied or report.unknown_click_ids:
        summary += (
            f"; {report.clicks_applied} clicks applied, "
            f"{report.unknown_click_ids} unknown news ids skipped"
        )
    _out.print(summary, markup=False, highlight=False)
    if report.nothing_read:
        _fail("nothing could be read from " + ", ".join(str(p) for p in paths))


def _print_lists(lists: RelatedLists, as_json: bool, explain: bool) -> None:
    if as_json:
        _out.print_json(json.dumps(lists_view(lists, explain=explain), ensure_ascii=False))
        return
    if lists.source is not None:
        source = lists.source
        when = source.published_at.strftime("%Y-%m-%d") if source.published_at else "undated"
        _out.print(f"[bold]{source.title}[/bold]  ({source.id}, {source.section or '-'}, {when})")
    for name, items in (("More like this", lists.more_like_this), ("Related", lists.related)):
        table = Table(title=name, title_justify="left", expand=False)
        for column in ("#", "id", "title", "date", "section", "score"):
            table.add_column(column, overflow="fold")
        if explain:
            table.add_column("why", overflow="fold")
        for rank, item in enumerate(items, start=1):
            article = item.article
            date = article.published_at.strftime("%Y-%m-%d") if article.published_at else ""
            row = [str(rank), article.id, article.title, date, article.section or "",
                   f"{item.score:.3f}"]
            if explain:
                parts = " + ".join(f"{k} {v:.3f}" for k, v in (item.parts or {}).items())
                shared = ", ".join(item.shared_terms)
                row.append(parts + (f"; shares: {shared}" if shared else ""))
            table.add_row(*row)
        _out.print(table)
    _out.print(f"index {lists.index_version}"
               + (f"; missing signals: {', '.join(lists.signals_missing)}"
                  if lists.signals_missing else ""), style="dim")


KOption = Annotated[int, typer.Option("-k", "--k", min=0, max=MAX_K, help="Items per list.")]


@app.command()
def related(
    article_id: Annotated[str, typer.Argument(help="The source article's id.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[bool, typer.Option(help="Show each score's parts.")] = False,
) -> None:
    """Show More like this and Related for a published article."""
    engine = _engine(_settings(home))
    try:
        lists = engine.related(article_id, ListRequest(k_more=k, k_related=k, explain=explain))
    except UnknownArticle as exc:
        _fail(str(exc), 2)
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
        _fail("the draft text is empty", 2)
    engine = _engine(_settings(home))
    lists = engine.like_text(text, ListRequest(k_more=k, k_related=k, explain=explain))
    _print_lists(lists, as_json, explain)


@app.command()
def status(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Run `newsrec doctor` first; exit 1 if unhealthy.")
    ] = False,
) -> None:
    """Counts, model, embedding path and index version of a home."""
    if check:
        _run_doctor(_settings(home), as_json=False, quiet_when_healthy=True)
    engine = _engine(_settings(home))
    info = engine.status()
    if as_json:
        _out.print_json(json.dumps(info, default=str))
        return
    for key, value in info.items():
        _out.print(f"{key:>20}: {value}", markup=False, highlight=False)


def _run_doctor(settings: Settings, *, as_json: bool, quiet_when_healthy: bool) -> None:
    from recommender.doctor import examine

    checkup = examine(settings)
    if as_json:
        _out.print_json(json.dumps({
            "home": str(checkup.home),
            "healthy": checkup.healthy,
            "problems": [
                {"severity": f.severity, "message": f.message, "fix": f.fix}
                for f in checkup.findings
            ],
            "facts": checkup.facts,
        }, default=str))
    else:
        for finding in checkup.findings:
            _out.print(str(finding), markup=False, highlight=False, soft_wrap=True)
        if not (quiet_when_healthy and checkup.healthy and not checkup.findings):
            facts = ", ".join(f"{k} {v}" for k, v in checkup.facts.items() if k != "home")
            verdict = "healthy" if checkup.healthy else "UNHEALTHY"
            _out.print(f"{checkup.home}: {verdict}; {facts}", markup=False, highlight=False,
                       soft_wrap=True)
    if not checkup.healthy:
        raise typer.Exit(1)


@app.command()
def doctor(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check the catalogue and index files of a home; one line per problem, exit 1 if unhealthy."""
    _run_doctor(_settings(home), as_json=as_json, quiet_when_healthy=False)


@app.command()
def reindex(home: HomeOption = None) -> None:
    """Rebuild the vector index from the catalogue and publish it as a new version."""
    from index import Catalogue, IndexStore, LockedError, WriterLock
    from recommender.indexing import publish_index

    settings = _settings(home)
    try:
        with WriterLock(settings.home, purpose="reindex"), Catalogue(
            settings.catalogue_path
        ) as catalogue:
            version = publish_index(catalogue, IndexStore(settings.index_root), settings)
    except LockedError as exc:
        _fail(str(exc))
    except StorageError as exc:
        _fail(str(exc))
    _out.print(f"published {version.name}: {version.manifest.count} vectors", markup=False)


@app.command()
def serve(
    home: HomeOption = None,
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service (uvicorn); Ctrl-C or SIGTERM lets requests in flight finish."""
    from service.server import serve as serve_http

    settings = _settings(home, host=host, port=port)
    _engine(settings).close()  # refuse to start on a damaged home, with the reason
    _out.print(
        f"newsrec serving {settings.home} on http://{settings.host}:{settings.port} "
        f"with {workers} worker(s) (try http://{settings.host}:{settings.port}/docs)",
        markup=False,
    )
    serve_http(settings, workers=workers)


def main() -> None:
    """Entry point of the ``newsrec`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        _fail("interrupted", 130)
