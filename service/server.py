"""Running the service: uvicorn with JSON logs, N workers and a graceful shutdown."""

from __future__ import annotations

import os
import shutil
import tempfile

import uvicorn

from recommender.settings import Settings
from service.logs import log_config
from service.metrics import MULTIPROC_ENV
from service.request_head import LIMIT_ENV

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "serve"]

#: On SIGTERM or Ctrl-C, requests in flight get this long to finish before the workers stop.
GRACEFUL_SHUTDOWN_SECONDS = 20
#: A worker that does not answer the supervisor's ping for this long is replaced. Generous,
#: because a worker starting on a busy machine spends seconds importing before it can answer.
WORKER_HEALTHCHECK_SECONDS = 60


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info") -> None:
    """Serve ``settings.home`` on ``settings.host:settings.port`` until stopped.

    Each of the ``workers`` processes loads the same on-disk index version and follows the
    same catalogue. With several workers, metrics go through a fresh shared directory (see
    :mod:`service.metrics`), removed again at exit. Keys and other settings reach the workers
    through the ``NEWSREC_*`` environment; the home and the request-head limits are set there
    explicitly.
    """
    os.environ["NEWSREC_HOME"] = str(settings.home.resolve())
    # Given on the command line, the shared catalogue and store must reach the workers too.
    if settings.catalogue_url is not None:
        os.environ["NEWSREC_CATALOGUE_URL"] = settings.catalogue_url.get_secret_value()
    if settings.store_url is not None:
        os.environ["NEWSREC_STORE_URL"] = settings.store_url
    for field, variable in LIMIT_ENV.items():
        os.environ[variable] = str(getattr(settings, field))
    metrics_dir: str | None = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="newsrec-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            # The C HTTP parser (uvicorn[standard] installs it) with limits on the request head
            # (service/request_head.py); "auto" would fall back to the slower pure-Python
            # parser without a word if it were missing.
            http="service.request_head:LimitedHttpToolsProtocol",
            loop="uvloop",
            log_config=log_config(log_level),
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            server_header=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
