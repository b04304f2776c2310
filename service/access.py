"""Per-request bookkeeping: a request id in and out, latency metrics, one JSON access line."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import REQUEST_ID_HEADER, new_request_id, request_id
from service.metrics import Metrics

__all__ = ["INDEX_VERSION_HEADER", "AccessMiddleware"]

INDEX_VERSION_HEADER = "X-Index-Version"
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
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None
        )
        rid = new_request_id(incoming)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        version: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, version
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                version = headers.get(INDEX_VERSION_HEADER)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or _UNMATCHED
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
