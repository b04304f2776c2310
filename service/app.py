"""The FastAPI application: ``create_app`` builds it over one home directory.

A worker loads the engine at start-up and keeps it current from a follower thread: catalogue
changes (from this worker, other workers or ``newsrec ingest``) are applied within a fraction
of a second, and a newly published index version (``newsrec reindex``, ``POST
/admin/reindex``) is loaded off to the side and swapped in at once, so requests in flight
finish on the version they started on and every answer names the version it came from.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from index import IndexStore, StorageError
from index.errors import CatalogueUnavailable
from index.shared_store import SharedStore, fetch
from recommender.operations.indexing import fetch_before_serving
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.threads import one_thread_per_request
from recommender.settings import Settings, load_settings
from service.access_log import INDEX_VERSION_HEADER, AccessMiddleware
from service.cache import ResponseCache
from service.docs_assets import install_offline_docs
from service.errors import install_error_handlers
from service.freshness import CatchUp
from service.headers import SecurityHeaders
from service.http_caching import HttpCaching, cache_control
from service.limits import BodySizeLimit
from service.logs import REQUEST_ID_HEADER, skip_unlogged_record_fields
from service.metrics import Metrics
from service.overload import ConcurrencyLimit
from service.reindex import Reindexer
from service.responses import CACHE_HEADER, ListAnswers
from service.routes import admin, articles, demo, events, health, metrics, related
from service.routes import fragments as fragment_routes
from service.routes import overrides as override_routes
from service.routes import search as search_routes
from service.security import API_KEY_HEADER, document_open_reads
from service.tracking import Tracking
from service.warmup import ModelWarmup
from service.workload import EarlyRefusal, ListWork

__all__ = ["create_app"]

_log = logging.getLogger("newsrec.service")
_REFRESH_SECONDS = 0.2
_STORE_POLL_SECONDS = 1.0
_GIL_SWITCH_SECONDS = 0.0005


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _watch_catalogue(app: FastAPI, path: Path, identity: tuple[int, int] | None) -> None:
    # The worker keeps its catalogue open: moved or removed, the file still answers reads
    # and takes writes, but nobody will open it again. Writes are refused from then on (see
    # service.deps.require_writable) and /readyz says why.
    if app.state.catalogue_lost is None and _file_identity(path) != identity:
        app.state.catalogue_lost = (
            f"{path} was moved, removed or replaced while this worker served it; writes are "
            "refused until the service is restarted on the right catalogue"
        )
        _log.error("%s", app.state.catalogue_lost)


def _follow_catalogue(
    engine: Engine, stop: threading.Event, watch: Callable[[], None] = lambda: None
) -> None:
    # Other processes (CLI ingest, other workers) write to the same catalogue; polling its
    # change counter keeps this worker's lists fresh within a fraction of a second.
    # A damaged or mismatched new version must not take the lists down: the engine keeps the
    # version it has, the refusal is logged once, and loading is retried only once CURRENT
    # names another version. Catalogue changes keep being applied meanwhile.
    refused: str | None = None
    reported: str | None = None
    unavailable: str | None = None
    while not stop.wait(_REFRESH_SECONDS):
        name: str | None = None
        watch()
        try:
            try:
                current = engine.store.current()
                name = current.name if current is not None else None
                if name is not None and name not in (engine.published_name, refused):
                    engine.load()
            except StorageError as exc:
                refused = name or refused
                if str(exc) != reported:
                    reported = str(exc)
                    _log.error(
                        "keeping index %s, refusing the published one: %s",
                        engine.published_name,
                        exc,
                    )
            engine.refresh()
            if unavailable is not None:
                _log.info("the catalogue answers again; following its changes")
                unavailable = None
        except CatalogueUnavailable as exc:
            # A shared catalogue's database is down or out of reach: lists keep coming from
            # memory, writes answer 503, and following resumes by itself once it is back.
            # Said once per outage, not five times a second.
            if unavailable is None:
                _log.error("%s; serving lists from memory until it answers", exc)
            unavailable = str(exc)
        except Exception:  # keep serving the version we have; the log says why
            _log.exception("could not refresh from %s", engine.settings.home)


def _fetch_before_serving(settings: Settings) -> None:
    fetched, error = fetch_before_serving(settings)
    if error is not None:
        _log.error("serving the index this replica has, cannot fetch: %s", error)
    elif fetched is not None:
        _log.info("fetched index %s before serving", fetched.name)


def _follow_store(
    app: FastAPI, shared: SharedStore, store: IndexStore, model: str, stop: threading.Event
) -> None:
    # Fetching runs on its own thread, beside the catalogue follower: a large version takes
    # seconds to download, and catalogue changes must keep showing within a second meanwhile.
    # A fetched version lands in the local store, where the catalogue follower loads it as it
    # would a local publish. A failed fetch leaves the local store as it was: the engine keeps
    # its version, /readyz and /metrics say why, and each distinct error is logged once.
    while not stop.wait(_STORE_POLL_SECONDS):
        try:
            fetched = fetch(shared, store, expect_model=model)
        except Exception as exc:  # whatever the driver raised, keep serving and keep trying
            app.state.metrics.store_fetch_failures.inc()
            if str(exc) != app.state.store_error:
                _log.error("keeping the index this replica has, cannot fetch: %s", exc)
            app.state.store_error = str(exc)
            continue
        if app.state.store_error is not None:
            _log.info("fetching from %s works again", shared.uri)
        app.state.store_error = None
        if fetched is not None:
            _log.info("fetched index %s from %s", fetched.name, shared.uri)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The newsrec HTTP service over ``settings.home`` (from the environment if omitted)."""
    settings = settings or load_settings()
    skip_unlogged_record_fields()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        one_thread_per_request()  # BLAS threads cost 100x on a list's small matrices
        # Lists are computed on threads (service/workload.py) while the event loop answers
        # probes and sheds load. A thread waiting for the GIL gets it after the switch
        # interval, and a list takes and releases it many times (each numpy call): at the
        # default 5 ms, a cheap list next to a busy loop and an expensive list took 100 ms.
        sys.setswitchinterval(_GIL_SWITCH_SECONDS)
        if settings.store_url:
            _fetch_before_serving(settings)
        engine = Engine(settings)
        stop = threading.Event()
        identity = _file_identity(settings.catalogue_path)

        def watch() -> None:
            # A database server has no file to lose; its outages are the refresh's to report.
            if not settings.shared_catalogue:
                _watch_catalogue(app, settings.catalogue_path, identity)

        follower = threading.Thread(
            target=_follow_catalogue,
            args=(engine, stop, watch),
            name="newsrec-follow",
            daemon=True,
        )
        fetcher = None
        if settings.store_url:
            fetcher = threading.Thread(
                target=_follow_store,
                args=(app, SharedStore(settings.store_url), engine.store, settings.model, stop),
                name="newsrec-fetch",
                daemon=True,
            )
        app.state.engine = engine
        # The home exists now: its signing key may be created in it.
        tracking = Tracking.from_settings(settings, experiment)
        app.state.tracking = tracking
        app.state.recommendation_ids = tracking.ids
        work = ListWork(retry_after_seconds=settings.retry_after_seconds)
        app.state.lists = ListAnswers(
            engine,
            app.state.cache,
            app.state.metrics,
            Weights.from_settings(settings),
            work,
            tracking,
        )
        app.state.reindexer = Reindexer(settings)
        app.state.catch_up = CatchUp(
            engine,
            wait_seconds=settings.min_generation_wait_seconds,
            retry_after_seconds=settings.retry_after_seconds,
        )
        # Writes embed text: a worker that takes them loads the model now, not on the first.
        app.state.model = ModelWarmup(engine, at_start=settings.api_key is not None)
        # What the engine loaded lives as long as the process: move it out of the garbage
        # collector's sight, or every full collection walks each article's card (pauses that
        # land on some unlucky request).
        gc.freeze()
        follower.start()
        if fetcher is not None:
            fetcher.start()
        app.state.model.start()
        _log.info(
            "serving %s: index %s, %d articles",
            settings.home,
            engine.index_version,
            len(engine),
            extra={"home": str(settings.home), "index_version": engine.index_version},
        )
        try:
            yield
        finally:
            # uvicorn calls this after the last request in flight has been answered.
            stop.set()
            follower.join(timeout=5)
            if fetcher is not None:
                fetcher.join(timeout=5)
            app.state.reindexer.join(timeout=30)
            work.close()
            feedback = getattr(app.state, "feedback", None)  # opened by the first feedback
            if feedback is not None:
                feedback.close()
            engine.close()
            _log.info("stopped serving %s", settings.home)

    app = FastAPI(
        title="newsrec",
        version="0.1.0",
        summary="Related-article lists for news sites: More like this and Related.",
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the installed package: service/docs_assets.py
        redoc_url=None,
    )
    # Read before anything is served: a malformed experiments file stops the service at start.
    experiment = Tracking.experiment_of(settings)
    app.state.settings = settings
    app.state.engine = None
    app.state.lists = None
    app.state.catalogue_lost = None
    app.state.store_error = None  # why the last fetch from the shared index store failed
    app.state.cache = ResponseCache(settings.cache_entries, max_bytes=settings.cache_bytes)
    app.state.metrics = Metrics(lambda: app.state.engine)
    install_error_handlers(app)
    # Innermost: 304s are decided on the answer as the route made it, and gzip (outside it)
    # compresses only what is sent.
    app.add_middleware(
        HttpCaching,
        cache_control=cache_control(settings.cache_max_age, private=settings.read_key is not None),
    )
    if settings.gzip_min_bytes:
        # Level 1: list JSON shrinks nearly as much as at higher levels, for a fraction of the
        # CPU (figures in README.md, HTTP caching).
        app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=1)
    # Added first, so that middleware added later (logs, metrics) wraps it and sees the 503s.
    app.add_middleware(
        ConcurrencyLimit,
        limit=settings.max_in_flight,
        retry_after_seconds=settings.retry_after_seconds,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(EarlyRefusal, work=lambda: app.state.lists.work if app.state.lists else None)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=[API_KEY_HEADER, REQUEST_ID_HEADER, "Content-Type"],
            expose_headers=[INDEX_VERSION_HEADER, REQUEST_ID_HEADER, CACHE_HEADER],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    # Outermost, so that every answer (also 413s and shed 503s) gets an id, a log line and a
    # latency sample.
    app.add_middleware(AccessMiddleware, metrics=app.state.metrics)
    routers = [r.router for r in (health, metrics, articles, related, events, admin, demo)]
    routers.append(fragment_routes.router)  # GET /articles/{id}/related.html
    routers += [override_routes.router, search_routes.router]  # editors: /overrides, ?q=
    for router in routers:
        app.include_router(router)
    document_open_reads(app, settings, routers)
    install_offline_docs(app)
    return app


_DESCRIPTION = """
Related-article lists for news sites, answered from a sentence-embedding index:

* **More like this**: the closest articles by meaning.
* **Related**: the rest ranked by similarity, recency around the source and popularity.

Every list answer names the index version it came from (`index_version`, and the
`X-Index-Version` header); `X-Cache: hit` marks answers served from this worker's cache.
`GET` list answers carry `Cache-Control` and a weak `ETag` of their lists: a request whose
`If-None-Match` names it gets `304 Not Modified`. Large answers are gzipped on request.

**Keys.** Write and admin routes need `X-API-Key: $NEWSREC_API_KEY`; without that setting they
are refused. Read routes are open unless `NEWSREC_READ_KEY` is set; then they need it (or the
write key). `/livez`, `/readyz` and `/metrics` are always open.

**Limits.** At most 50 items per list, 500 articles per batch, 1,000 events per batch and
`NEWSREC_MAX_BODY_BYTES` (default 1 MiB) per request body.
"""
