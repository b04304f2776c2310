"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import EngineDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/healthz")
@router.get("/readyz")
def readyz(engine: EngineDep) -> Any:
    """Ready once an index is loaded and holds articles; 503 otherwise."""
    info = engine.status()
    ready = len(engine) > 0
    return JSONResponse(
        {"status": "ready" if ready else "not ready", **info}, status_code=200 if ready else 503
    )
