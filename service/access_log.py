"""Per-request bookkeeping: a request id in and out, latency metrics, one JSON access line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import REQUEST_ID_HEADER, new_request_id, request_id
from service.metrics import Metrics

__all__ = ["INDEX_VERSION_HEADER", "AccessMiddleware"]

INDEX_VERSION_HEADER = "X-Index-Version"
_VERSION_KEY = INDEX_VERSION_HEADER.lower().encode("latin-1")
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
_UNMATCHED = "<unmatched>"
_log = logging.getLogger("newsrec.access")


class AccessMiddleware:
    """ASGI middleware that names, times, counts and logs every HTTP request.

    The request id is the caller's ``X-Request-ID`` when it is a plain token, else a new one;
    it is returned in the same header and attached to every log line of the request. Latency
    is recorded under the route template (``/articles/{article_id}/related``), never the raw
    path, so that metric labels stay few.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        """Wrap ``app``, recording into ``metrics``."""
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id(_header(scope["headers"], _REQUEST_ID_KEY))
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        status_sent = False
        version: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent, version
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                headers = list(message.get("headers", ()))
                version = _header(headers, _VERSION_KEY)
                headers.append((_REQUEST_ID_KEY, rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The traceback is logged under the request id, and the caller gets the id to
            # quote; if the answer had begun, the connection is cut (uvicorn does that).
            _log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if status_sent:
                raise
            await _internal_error(rid, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            _log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "index_version": version,
                    "client": (scope.get("client") or ("-",))[0],
                },
            )
            request_id.reset(token)


async def _internal_error(rid: str, send: Send) -> None:
    body = json.dumps(
        {"detail": f"internal error; quote request id {rid} when reporting it"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(headers: Iterable[tuple[bytes, bytes]], key: bytes) -> str | None:
    """The first value of header ``key`` (lower-case bytes), if present."""
    for name, value in headers:
        if name.lower() == key:
            return value.decode("latin-1")
    return None


def _route_template(scope: Scope) -> str:
    """The template of the route that answered, or would have (for a 413 refused early)."""
    route = scope.get("route")
    if route is None:
        # Refused before routing (body too large, load shed): find the route it was meant for.
        app = scope.get("app")
        for candidate in getattr(getattr(app, "router", None), "routes", ()):
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
    # path_format drops converters: /articles/{article_id}/related, not {article_id:path}.
    return getattr(route, "path_format", None) or getattr(route, "path", None) or _UNMATCHED
