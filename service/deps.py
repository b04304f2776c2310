"""Dependencies of the routes, declared once as ``Annotated`` aliases.

Every dependency is ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool,
and a hop to a thread and back costs more than these lookups many times over.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from recommender.serving.engine import Engine
from service.metrics import Metrics
from service.responses import ListAnswers
from service.security import require_read, require_write

__all__ = [
    "EngineDep",
    "ListsDep",
    "MetricsDep",
    "ReadAccess",
    "WriteAccess",
    "get_engine",
    "get_lists",
    "require_writable",
]


async def get_engine(request: Request) -> Engine:
    """The engine loaded at start-up."""
    engine: Engine = request.app.state.engine
    return engine


async def get_metrics(request: Request) -> Metrics:
    """This worker's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_lists(request: Request) -> ListAnswers:
    """This worker's list answers: engine, response cache and metrics together."""
    lists: ListAnswers = request.app.state.lists
    return lists


EngineDep = Annotated[Engine, Depends(get_engine)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ListsDep = Annotated[ListAnswers, Depends(get_lists)]


async def require_writable(request: Request, _: None = Depends(require_write)) -> None:
    """Let a write through only with the write key and while the catalogue file this worker
    opened is still the one at the home's path (503 once it was moved, removed or replaced:
    a write acknowledged into a file nobody will open again would be lost)."""
    lost: str | None = request.app.state.catalogue_lost
    if lost is not None:
        raise HTTPException(503, lost)


#: Put in a route's or router's ``dependencies`` to apply the key rules of :mod:`security`.
ReadAccess = Depends(require_read)
WriteAccess = Depends(require_writable)
