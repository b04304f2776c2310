"""Liveness and readiness."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.access_log import INDEX_VERSION_HEADER
from service.deps import EngineDep
from service.warmup import ModelWarmup

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process is up.

    Answered on the event loop: a thread pool busy with other work must not delay it.
    """
    return {"status": "ok"}


@router.get("/healthz")
@router.get(
    "/readyz",
    responses={
        503: {
            "description": "No index is loaded yet (e.g. nothing ingested), or the embedding "
            "model is still loading."
        }
    },
)
def readyz(engine: EngineDep, request: Request) -> Any:
    """Ready once an index is loaded and both it and the catalogue hold articles, the
    catalogue file is still the one opened at start, and (where writes are enabled) the
    embedding model is loaded; 503 otherwise, with ``reason``.

    The answer describes this worker: its process id, the index version it serves, the
    catalogue changes its lists hold (``applied_seq``) and how many they lack (``lag``). A
    replica whose shared catalogue is out of reach stays ready (lists come from memory) and
    says so in ``catalogue``; one that cannot fetch from the shared store, in ``store``.
    """
    info = engine.status()
    model: ModelWarmup = request.app.state.model
    info["embedding_model"] = model.state
    if request.app.state.settings.store_url:
        # A replica that cannot fetch new versions keeps serving the one it has: still ready,
        # but it says why it may fall behind.
        failed: str | None = request.app.state.store_error
        info["store"] = "ok" if failed is None else f"cannot fetch ({failed})"
    lost: str | None = request.app.state.catalogue_lost
    reason = None
    if lost is not None:
        reason = lost
    elif not info["indexed"]:
        reason = "no index with articles is loaded (nothing ingested, or not reindexed yet)"
    elif not info["articles"]:
        reason = f"the catalogue holds no articles, but the index holds {info['indexed']}"
    elif model.not_ready is not None:
        reason = model.not_ready
    ready = reason is None
    extra = {} if ready else {"reason": reason}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "pid": os.getpid(), **extra, **info},
        status_code=200 if ready else 503,
        headers={INDEX_VERSION_HEADER: str(info["index_version"])},
    )
