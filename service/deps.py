"""Dependencies of the routes, declared once as ``Annotated`` aliases.

Every dependency is ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool,
and a hop to a thread and back costs more than these lookups many times over.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recommender.engine import Engine
from service.metrics import Metrics
from service.options import list_options
from service.responses import ListAnswers
from service.schemas import ListOptions
from service.security import require_read, require_write

__all__ = [
    "EngineDep",
    "ListOptionsQuery",
    "ListsDep",
    "MetricsDep",
    "ReadAccess",
    "WriteAccess",
    "get_engine",
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
#: The list options of the query string; document them with
#: ``openapi_extra={"parameters": LIST_OPTION_PARAMETERS}`` (see :mod:`service.options`).
ListOptionsQuery = Annotated[ListOptions, Depends(list_options)]

#: Put in a route's or router's ``dependencies`` to apply the key rules of :mod:`security`.
ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)
