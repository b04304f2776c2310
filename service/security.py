"""API keys: who may read and who may write.

- Write and admin routes need the key of ``NEWSREC_API_KEY`` in the ``X-API-Key`` header. With
  no such key configured they are refused (403) rather than left open.
- Read routes are open unless ``NEWSREC_READ_KEY`` is set; then they need it or the write key.
- Health, readiness and metrics stay open for probes and scrapers.

Keys are compared in constant time and are never logged or echoed. The checks are ``async def``
so that FastAPI runs them on the event loop instead of sending each to its thread pool.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from recommender.settings import Settings

__all__ = ["API_KEY_HEADER", "document_open_reads", "require_read", "require_write"]

API_KEY_HEADER = "X-API-Key"

_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="NEWSREC_API_KEY for write and admin routes; NEWSREC_READ_KEY (or the write "
    "key) for read routes when a read key is configured.",
)
_CHALLENGE = {"WWW-Authenticate": API_KEY_HEADER}


def _matches(given: str, expected: SecretStr | None) -> bool:
    if expected is None:
        return False
    # Comparing digests keeps the time independent of both the content and the length.
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8")).digest(),
        hashlib.sha256(expected.get_secret_value().encode("utf-8")).digest(),
    )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def require_read(
    request: Request, key: Annotated[str | None, Security(_header)] = None
) -> None:
    """Let a read through: always when no read key is set, else with the read or write key."""
    settings = _settings(request)
    if settings.read_key is None:
        return
    if key is None:
        raise HTTPException(
            401,
            f"this route needs an API key in the {API_KEY_HEADER} header (the read key or "
            "the write key)",
            headers=_CHALLENGE,
        )
    if _matches(key, settings.read_key) or _matches(key, settings.api_key):
        return
    raise HTTPException(401, f"the {API_KEY_HEADER} given is not a valid key", headers=_CHALLENGE)


async def require_write(
    request: Request, key: Annotated[str | None, Security(_header)] = None
) -> None:
    """Let a write through only with the write key; refuse all writes when none is set."""
    settings = _settings(request)
    if settings.api_key is None:
        raise HTTPException(
            403,
            "write routes are disabled because no API key is configured: set NEWSREC_API_KEY "
            "(at least 12 characters) and restart the service",
        )
    if key is None:
        raise HTTPException(
            401,
            f"this route needs the write key (NEWSREC_API_KEY) in the {API_KEY_HEADER} header",
            headers=_CHALLENGE,
        )
    if _matches(key, settings.api_key):
        return
    if _matches(key, settings.read_key):
        raise HTTPException(403, "the read key cannot write; use the write key (NEWSREC_API_KEY)")
    raise HTTPException(401, f"the {API_KEY_HEADER} given is not a valid key", headers=_CHALLENGE)


def document_open_reads(app: FastAPI, settings: Settings, routers: Iterable[APIRouter]) -> None:
    """Mark the key of the read routes of ``routers`` optional in the app's OpenAPI schema when
    no read key is configured, so that the schema says what the server does: answer them
    without a key."""
    if settings.read_key is not None:
        return
    reads = {
        (method.lower(), route.path_format)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and any(d.dependency is require_read for d in route.dependencies)
        for method in route.methods or ()
    }
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    if (method, path) in reads and operation.get("security"):
                        # An empty requirement: the operation may also be called without one.
                        operation["security"] = [{}, *operation["security"]]
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
