"""The ``newsrec`` command line: the one composition root, free to import every package.

Every failure ends with one line on stderr saying what is wrong and where, and a non-zero exit
code: 1 for a failed job, 2 for a bad command line or bad input.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from index import StorageError
from recommender.engine import Engine, RelatedLists, UnknownArticle
from recommender.requests import MAX_K, ListRequest
from recommender.settings import Settings, SettingsFileError, load_settings
from recommender.views import lists_view

if TYPE_CHECKING:
    from index.overrides import Override, OverrideStore

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
    typer.Option(
        "--home", help="Home directory (default ./.newsrec, or $NEWSREC_HOME).", show_default=False
    ),
]


def _say_error(message: str) -> None:
    _err.print(f"newsrec: error: {message}", markup=False, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 1) -> NoReturn:
    _say_error(message)
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
        _out.print(table)
    _out.print(
        f"index {lists.index_version}"
        + (
            f"; missing signals: {', '.join(lists.signals_missing)}"
            if lists.signals_missing
            else ""
        ),
        style="dim",
    )


KOption = Annotated[int, typer.Option("-k", "--k", min=0, max=MAX_K, help="Items per list.")]


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
    from recommender.scoring import Weights

    settings = _settings(home)
    weights = None
    if (w_sim, w_rec, w_pop, w_coread) != (None, None, None, None):
        weights = Weights.from_settings(settings).overridden(w_sim, w_rec, w_pop, w_coread)
        if weights.total() <= 0:
            _fail("--w-sim, --w-rec, --w-pop and --w-coread must not all be 0", 2)
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
        _fail(str(exc), 2)
    engine = _engine(settings)
    try:
        lists = engine.related(article_id, request)
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
        _out.print_json(
            json.dumps(
                {
                    "home": str(checkup.home),
                    "healthy": checkup.healthy,
                    "problems": [
                        {"severity": f.severity, "message": f.message, "fix": f.fix}
                        for f in checkup.findings
                    ],
                    "facts": checkup.facts,
                },
                default=str,
            )
        )
    else:
        for finding in checkup.findings:
            _out.print(str(finding), markup=False, highlight=False, soft_wrap=True)
        if not (quiet_when_healthy and checkup.healthy and not checkup.findings):
            facts = ", ".join(f"{k} {v}" for k, v in checkup.facts.items() if k != "home")
            verdict = "healthy" if checkup.healthy else "UNHEALTHY"
            _out.print(
                f"{checkup.home}: {verdict}; {facts}", markup=False, highlight=False, soft_wrap=True
            )
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
        with (
            WriterLock(settings.home, purpose="reindex"),
            Catalogue(settings.catalogue_path) as catalogue,
        ):
            version = publish_index(
                catalogue, IndexStore(settings.index_root), settings, rebuild=True
            )
    except LockedError as exc:
        _fail(str(exc))
    except StorageError as exc:
        _fail(str(exc))
    _out.print(
        f"published {version.name}: {version.manifest.count} vectors "
        f"({version.manifest.kind} index)",
        markup=False,
    )


@app.command()
def precompute(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON lines file (.gz: gzipped).")],
    k: KOption = 5,
    home: HomeOption = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=256, help="Processes (default: one per core).")
    ] = None,
) -> None:
    """Write both lists of every published article, one JSON line each, for caches and CDNs."""
    from recommender.precompute import precompute as run_precompute
    from recommender.requests import ListRequest
    from recommender.threads import one_thread_per_request

    engine = _engine(_settings(home))
    one_thread_per_request()
    try:
        report = run_precompute(
            engine,
            out,
            ListRequest(k_more=k, k_related=k),
            progress=sys.stderr.isatty(),
            workers=workers,
        )
    except OSError as exc:
        _fail(f"{out}: cannot write ({exc.strerror or exc})")
    finally:
        engine.close()
    _out.print(
        f"wrote {report.articles} articles' lists to {report.path} in {report.seconds:.1f}s "
        f"({report.per_second:,.0f}/s); index {report.index_version}; sha256 {report.sha256}",
        markup=False,
        highlight=False,
    )


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


@app.command()
def evaluate(
    datasets: Annotated[
        list[Path], typer.Argument(help="Article files or MIND folders (news.tsv + behaviors.tsv).")
    ],
    protocol: Annotated[
        str, typer.Option(help="labels (shared labels), coread (same reader) or impressions.")
    ] = "labels",
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md, runs, plots.")] = (
        Path("evaluation-out")
    ),
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "5,10,20",
    seed: Annotated[int, typer.Option(help="Seed of every split, sample and resample.")] = 0,
    sweep: Annotated[
        str | None, typer.Option(help="Tune Related by 'grid' or 'random' search.")
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Sweep trials (a grid is sampled).")] = 20,
    split: Annotated[
        str, typer.Option(help="Corpus split whose sources are reported, or 'all'.")
    ] = "test",
    limit_sources: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Report a seeded sample of this many sources (impressions, in that protocol).",
        ),
    ] = None,
    tune_sources: Annotated[
        int, typer.Option(min=1, help="Sweep on a seeded sample of this many tuning sources.")
    ] = 500,
    candidates_before_source: Annotated[
        bool, typer.Option(help="Only candidates published before the source.")
    ] = False,
    window_days: Annotated[
        float | None, typer.Option(help="Only candidates within D days of the source.")
    ] = None,
    labels: Annotated[
        str, typer.Option(help="Label fields of the labels protocol, comma-separated.")
    ] = "topics",
    set_: Annotated[
        list[str], typer.Option("--set", help="A setting for the engine: KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    cache: Annotated[
        Path | None, typer.Option(help="Embedding cache folder (default ~/.cache/newsrec-eval).")
    ] = None,
) -> None:
    """Measure both lists and the baselines against labels or reading data; write a report."""
    from evaluation.cli import EvaluateError, evaluate_command

    try:
        summary = evaluate_command(
            datasets,
            protocol=protocol,
            out=out,
            k=k,
            seed=seed,
            sweep=sweep,
            trials=trials,
            split=split,
            limit_sources=limit_sources,
            tune_sources=tune_sources,
            before_source=candidates_before_source,
            window_days=window_days,
            labels=labels,
            settings=set_,
            cache=cache,
            progress=sys.stderr.isatty(),
        )
    except EvaluateError as exc:
        _fail(str(exc), exc.exit_code)
    _out.print(summary, markup=False, highlight=False, soft_wrap=True)


# --- editorial overrides and reading events -------------------------------------------------
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
    from recommender.overrides import InvalidUntil, parse_until

    if text is None:
        return None
    try:
        when = parse_until(text)
    except InvalidUntil as exc:
        _fail(str(exc), 2)
    if when <= datetime.now(UTC):
        _fail(f"--until {text!r} is already past ({when.isoformat()})", 2)
    return when


def _require_published(settings: Settings, *article_ids: str) -> None:
    from index import Catalogue

    try:
        with Catalogue(settings.catalogue_path) as catalogue:
            for article_id in article_ids:
                if catalogue.get(article_id) is None:
                    _fail(f"no published article with id {article_id!r}", 2)
    except StorageError as exc:
        _fail(str(exc))


def _override_store(settings: Settings) -> OverrideStore:
    from index.overrides import OverrideStore

    try:
        return OverrideStore(settings.catalogue_path)
    except StorageError as exc:
        _fail(str(exc))


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

    settings = _settings(home)
    if source == target:
        _fail(f"cannot pin {target!r} into its own list", 2)
    _require_published(settings, source, target)
    expires = _until(until)
    with _override_store(settings) as store:
        try:
            made = store.pin(
                source, target, position=position, until=expires, reason=reason, by=_author(by)
            )
        except OverrideError as exc:
            _fail(str(exc), 2)
        blocks = [
            o
            for o in store.in_force()
            if o.kind == "block"
            and o.target_id == target
            and o.source_id in (None, source)
            and o.active_at(datetime.now(UTC))
        ]
    _out.print(_describe(made), markup=False, highlight=False)
    for block_ in blocks:
        _err.print(
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

    settings = _settings(home)
    _require_published(settings, target, *([for_] if for_ else []))
    expires = _until(until)
    with _override_store(settings) as store:
        try:
            made = store.block(target, source_id=for_, until=expires, reason=reason, by=_author(by))
        except OverrideError as exc:
            _fail(str(exc), 2)
    _out.print(_describe(made), markup=False, highlight=False)


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
    settings = _settings(home)
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
        _out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if not rows:
        _out.print(
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
    _out.print(table)


@overrides_app.command("remove")
def overrides_remove(
    override_id: Annotated[int, typer.Argument(help="The override's id (see newsrec overrides).")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Stop an override from applying (it stays on record as removed)."""
    from index.overrides import UnknownOverride

    with _override_store(_settings(home)) as store:
        try:
            removed = store.remove(override_id, by=_author(by))
        except UnknownOverride as exc:
            _fail(str(exc), 2)
    _out.print(f"removed {_describe(removed)}", markup=False, highlight=False)


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
            _fail(f"no {kind} of {target}{where} in force (see newsrec overrides)", 2)
        for o in matching:
            store.remove(o.id, by=_author(by))
            _out.print(f"removed {_describe(o)}", markup=False, highlight=False)


@app.command()
def unpin(
    source: Annotated[str, typer.Argument(help="The article whose Related list has the pin.")],
    target: Annotated[str, typer.Argument(help="The pinned article.")],
    by: ByOption = None,
    home: HomeOption = None,
) -> None:
    """Remove the pins of TARGET in SOURCE's Related list."""
    _remove_matching(_settings(home), "pin", target, source, by)


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
    _remove_matching(_settings(home), "block", target, for_, by)


@app.command()
def events(
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL(.gz)/CSV/Parquet events or MIND behaviors.tsv.")
    ],
    home: HomeOption = None,
) -> None:
    """Record reading events (views, clicks) that feed popularity.

    Each row: article_id, kind (view or click), at (ISO 8601), optionally user and id. An event
    with an id is stored once however often it is read; a MIND behaviors.tsv gives its clicks.
    """
    from recommender.events import record_events

    settings = _settings(home)
    try:
        report = record_events(paths, settings.catalogue_path)
    except StorageError as exc:
        _fail(str(exc))
    for problem in report.problems[:50]:
        _err.print(f"rejected {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(report.problems) > 50:
        _err.print(f"... and {len(report.problems) - 50} more rejected rows", markup=False)
    for message in report.unreadable:
        _err.print(f"unreadable {message}", markup=False, highlight=False, soft_wrap=True)
    _out.print(
        f"stored {report.added} events, {report.already_stored} already stored, "
        f"rejected {report.rejected}; {report.unknown_articles} for articles not in the "
        "catalogue (kept: they count once the article arrives)",
        markup=False,
        highlight=False,
    )
    if report.nothing_read:
        _fail("no event could be read from " + ", ".join(str(p) for p in paths), 2)


def main() -> None:
    """Entry point of the ``newsrec`` console script."""
    from recommender.model_weights import ModelUnavailable

    # Outside the Typer app a typer.Exit would surface as a traceback, hence SystemExit.
    try:
        app()
    except KeyboardInterrupt:
        _say_error("interrupted")
        raise SystemExit(130) from None
    except ModelUnavailable as exc:
        _say_error(f"model: {exc}")
        raise SystemExit(2) from None
