"""Admin routes: a rebuild of the index run by the service itself."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.deps import EngineDep, WriteAccess
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.reindex import Reindexer
from service.schemas import ReindexOut

__all__ = ["router"]

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[WriteAccess])


def _state(request: Request, engine: EngineDep) -> ReindexOut:
    reindexer: Reindexer = request.app.state.reindexer
    state = reindexer.state()
    return ReindexOut(
        running=state.running,
        index_version=engine.index_version,
        last_published=state.last_published,
        last_error=state.last_error,
    )


@router.post(
    "/reindex",
    status_code=202,
    response_model=ReindexOut,
    responses=responses(AUTH_RESPONSES, BUSY_RESPONSES),
)
def post_reindex(request: Request, engine: EngineDep) -> ReindexOut:
    """Rebuild the index from the catalogue in the background and publish it.

    Serving goes on meanwhile; the new version is swapped in atomically once published (every
    worker follows it within a fraction of a second). Asking while a rebuild runs starts no
    second one. Needs the write key.
    """
    reindexer: Reindexer = request.app.state.reindexer
    reindexer.start()
    return _state(request, engine)


@router.get(
    "/reindex", response_model=ReindexOut, responses=responses(AUTH_RESPONSES, BUSY_RESPONSES)
)
def get_reindex(request: Request, engine: EngineDep) -> ReindexOut:
    """Whether a rebuild runs, the last version it published and any error. Needs the write
    key."""
    return _state(request, engine)
