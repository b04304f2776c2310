"""Dependencies of the routes, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recommender.engine import Engine

__all__ = ["EngineDep", "get_engine"]


def get_engine(request: Request) -> Engine:
    """The engine loaded at start-up."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
