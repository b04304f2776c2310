"""Dependencies of the routes, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recommender.engine import Engine
from recommender.settings import Settings
from service.cache import ResponseCache
from service.metrics import Metrics
from service.security import require_read, require_write

__all__ = [
    "CacheDep",
    "EngineDep",
    "MetricsDep",
    "ReadAccess",
    "SettingsDep",
    "WriteAccess",
    "get_engine",
]


def get_engine(request: Request) -> Engine:
    """The engine loaded at start-up."""
    engine: Engine = request.app.state.engine
    return engine


def get_settings(request: Request) -> Settings:
    """The settings the service was started with."""
    settings: Settings = request.app.state.settings
    return settings


def get_cache(request: Request) -> ResponseCache:
    """This worker's response cache."""
    cache: ResponseCache = request.app.state.cache
    return cache


def get_metrics(request: Request) -> Metrics:
    """This worker's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

#: Put in a route's or router's ``dependencies`` to apply the key rules of :mod:`security`.
ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)
