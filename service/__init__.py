"""newsrec's HTTP service: the FastAPI app (:mod:`service.app`) and its Python client
(:mod:`service.client`).

``create_app`` is imported on first use, so that importing the client costs no FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from service.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
