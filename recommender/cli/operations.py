"""Running a home: ``status``, ``doctor``, ``reindex``, ``precompute`` and ``serve``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from index import StorageError
from index.disk import DISK_CAUSES
from recommender.cli.app import (
    CatalogueOption,
    HomeOption,
    KOption,
    RayOption,
    StoreOption,
    app,
    console,
    fail,
    fail_storage,
    open_engine,
    require_home,
    settings_for,
)
from recommender.cli.batch import on_ray
from recommender.serving.requests import ListRequest
from recommender.settings import Settings

if TYPE_CHECKING:  # Ray is optional: recommender.distributed is imported only for --ray
    from recommender.operations.precompute import PrecomputeReport


@app.command()
def status(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Run `newsrec doctor` first; exit 1 if unhealthy.")
    ] = False,
) -> None:
    """Counts, model, embedding path and index version of a home."""
    settings = settings_for(home)
    require_home(settings)
    if check:
        _run_doctor(settings, as_json=False, quiet_when_healthy=True)
    engine = open_engine(settings)
    info = engine.status()
    if as_json:
        console.print_json(json.dumps(info, default=str))
        return
    for key, value in info.items():
        console.print(f"{key:>20}: {value}", markup=False, highlight=False)


def _run_doctor(settings: Settings, *, as_json: bool, quiet_when_healthy: bool) -> None:
    from recommender.operations.doctor import examine

    checkup = examine(settings)
    if as_json:
        console.print_json(
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
            console.print(str(finding), markup=False, highlight=False, soft_wrap=True)
        if not (quiet_when_healthy and checkup.healthy and not checkup.findings):
            facts = ", ".join(f"{k} {v}" for k, v in checkup.facts.items() if k != "home")
            verdict = "healthy" if checkup.healthy else "UNHEALTHY"
            console.print(
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
    _run_doctor(settings_for(home), as_json=as_json, quiet_when_healthy=False)


@app.command()
def reindex(
    home: HomeOption = None,
    ray: RayOption = None,
    catalogue: CatalogueOption = None,
    store: StoreOption = None,
) -> None:
    """Rebuild the vector index from the catalogue and publish it as a new version.

    With --ray, the neighbour table is computed on Ray (the same table).
    """
    from index import Catalogue, IndexStore, LockedError
    from recommender.operations.indexing import publish_index
    from recommender.operations.writer import writer_lock

    settings = settings_for(home, catalogue_url=catalogue, store_url=store)
    require_home(settings)  # a rebuild of nothing would create an empty home
    try:
        with (
            on_ray(ray) as target,
            writer_lock(settings, purpose="reindex"),
            Catalogue(settings.catalogue) as articles,
        ):
            version = publish_index(
                articles, IndexStore(settings.index_root), settings, rebuild=True, ray=target
            )
    except LockedError as exc:
        fail(str(exc))
    except StorageError as exc:
        fail_storage(exc)
    console.print(
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
        int | None,
        typer.Option(
            min=1, max=256, help="Processes (default: one per core; with --ray, per Ray CPU)."
        ),
    ] = None,
    ray: RayOption = None,
) -> None:
    """Write both lists of every published article, one JSON line each, for caches and CDNs.

    With --ray, the lines are written by Ray workers (the same lines).
    """
    from recommender.experiments.signer import configured_ids
    from recommender.operations.precompute import precompute as run_precompute
    from recommender.serving.threads import one_thread_per_request

    settings = settings_for(home)
    request = ListRequest(k_more=k, k_related=k, k_popular=k)
    if ray is not None:
        _precompute_on_ray(settings, out, request, workers, ray)
        return
    engine = open_engine(settings)
    one_thread_per_request()
    # Signed with the home's key, as the service signs: a click on a precomputed list counts.
    ids = configured_ids(settings)
    try:
        report = run_precompute(
            engine,
            out,
            request,
            progress=sys.stderr.isatty(),
            workers=workers,
            ids=ids,
        )
    except OSError as exc:
        fail(f"{out}: cannot write ({exc.strerror or exc})", 2 if exc.errno in DISK_CAUSES else 1)
    finally:
        engine.close()
    _say_written(report)


def _say_written(report: PrecomputeReport) -> None:
    console.print(
        f"wrote {report.articles} articles' lists to {report.path} in {report.seconds:.1f}s "
        f"({report.per_second:,.0f}/s); index {report.index_version}; sha256 {report.sha256}",
        markup=False,
        highlight=False,
    )


def _precompute_on_ray(
    settings: Settings, out: Path, request: ListRequest, workers: int | None, option: str
) -> None:
    from recommender.distributed.precompute import IndexChangedError, precompute_on_ray
    from recommender.experiments.signer import configured_ids

    require_home(settings)
    try:
        with on_ray(option):
            report = precompute_on_ray(
                settings, out, request, workers=workers, ids=configured_ids(settings)
            )
    except IndexChangedError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write ({exc.strerror or exc})", 2 if exc.errno in DISK_CAUSES else 1)
    _say_written(report)


@app.command()
def serve(
    home: HomeOption = None,
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    catalogue: CatalogueOption = None,
    store: StoreOption = None,
) -> None:
    """Run the HTTP service (uvicorn); Ctrl-C or SIGTERM lets requests in flight finish."""
    from service.server import serve as serve_http

    settings = settings_for(home, host=host, port=port, catalogue_url=catalogue, store_url=store)
    from recommender.experiments.config import ExperimentsError, load_experiments
    from recommender.operations.doctor import serving_refusal

    if settings.experiments_file is not None:
        # Checked before anything starts: a worker would refuse it anyway, but only in its log.
        try:
            load_experiments(Path(settings.experiments_file))
        except ExperimentsError as exc:
            fail(f"{exc}; not serving", 2)

    if settings.shared_catalogue and settings.recommendation_secret is None:
        # Each home would sign with a key of its own, and feedback on an answer from one
        # replica would be refused by the others.
        fail(
            "replicas of a shared catalogue must share the key that signs recommendation ids: "
            "set NEWSREC_RECOMMENDATION_SECRET to the same value on every replica",
            2,
        )
    refusal = serving_refusal(settings)
    if refusal is not None:
        fail(refusal)
    if settings.store_url:
        # A new replica's home is empty: the check below would otherwise build the engine from
        # every row of the catalogue, work the fetched version makes unnecessary.
        from recommender.operations.indexing import fetch_before_serving

        try:
            fetched, error = fetch_before_serving(settings)
        except StorageError as exc:
            fail(f"cannot fetch the index from the store {settings.store_url}: {exc}; not serving")
        if error is not None:
            console.print(f"store unreachable, serving this home's index: {error}", markup=False)
        elif fetched is not None:
            console.print(f"fetched index {fetched.name} from the store", markup=False)
    # Refuse to start on a damaged home, with the reason; a new home starts empty, for writes.
    open_engine(settings, create=True).close()
    console.print(
        f"newsrec serving {settings.home} on http://{settings.host}:{settings.port} "
        f"with {workers} worker(s) (try http://{settings.host}:{settings.port}/docs)",
        markup=False,
    )
    serve_http(settings, workers=workers)
