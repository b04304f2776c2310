"""Liveness and readiness."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.access_log import INDEX_VERSION_HEADER
from service.deps import EngineDep

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
    responses={503: {"description": "No index is loaded yet (e.g. nothing ingested)."}},
)
def readyz(engine: EngineDep) -> Any:
    """Ready once an index is loaded and holds articles; 503 otherwise.

    The answer describes this worker: its process id, and the index version it serves.
    """
    info = engine.status()
    ready = len(engine) > 0
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "pid": os.getpid(), **info},
        status_code=200 if ready else 503,
        headers={INDEX_VERSION_HEADER: str(info["index_version"])},
    )
