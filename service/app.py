"""The FastAPI application: ``create_app`` builds it over one home directory."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from recommender.engine import Engine
from recommender.settings import Settings, load_settings
from service.routes import articles, health

__all__ = ["create_app"]

_log = logging.getLogger("newsrec.service")
_REFRESH_SECONDS = 0.2


def _follow_catalogue(engine: Engine, stop: threading.Event) -> None:
    # Other processes (CLI ingest, other workers) write to the same catalogue; polling its
    # change counter keeps this worker's lists fresh within a fraction of a second.
    while not stop.wait(_REFRESH_SECONDS):
        try:
            current = engine.store.current()
            if current is not None and current.name != engine.published_name:
                engine.load()
            else:
                engine.refresh()
        except Exception:  # keep serving the version we have; the log says why
            _log.exception("could not refresh from %s", engine.settings.home)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The newsrec HTTP service over ``settings.home`` (from the environment if omitted)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = Engine(settings)
        stop = threading.Event()
        follower = threading.Thread(
            target=_follow_catalogue, args=(engine, stop), name="newsrec-follow", daemon=True
        )
        app.state.engine = engine
        follower.start()
        try:
            yield
        finally:
            stop.set()
            follower.join(timeout=5)
            engine.close()

    app = FastAPI(
        title="newsrec",
        version="0.1.0",
        summary="Related-article lists for news sites: More like this and Related.",
        lifespan=lifespan,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"]
        )
    app.include_router(health.router)
    app.include_router(articles.router)
    return app
