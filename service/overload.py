"""Load shedding: past a bound on requests in flight, answer 503 with ``Retry-After`` at once.

A server that accepts every request under a burst queues them all; latency then grows for
everyone until clients time out and retry, which makes the burst worse. Refusing the excess
immediately, with a hint of when to come back, keeps the requests that are admitted fast and
lets the service return to normal latency as soon as the burst ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SHED_EXEMPT_PATHS", "ConcurrencyLimit", "send_busy"]

#: Liveness must answer under load, or an orchestrator would restart a merely busy server.
SHED_EXEMPT_PATHS: frozenset[str] = frozenset({"/livez"})


class ConcurrencyLimit:
    """ASGI middleware admitting at most ``limit`` HTTP requests at a time; 503 for the rest.

    The count lives on the event loop, where ASGI calls start, so it needs no lock. A request
    counts from the moment it arrives until its response has been sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        retry_after_seconds: int = 1,
        exempt_paths: Collection[str] = SHED_EXEMPT_PATHS,
    ) -> None:
        """Wrap ``app``; ``limit`` and ``retry_after_seconds`` must be positive integers."""
        for name, value in (("limit", limit), ("retry_after_seconds", retry_after_seconds)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.app = app
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self.exempt_paths = frozenset(exempt_paths)
        self.in_flight = 0
        self.shed = 0  # requests refused since start, for tests and metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.shed += 1
            await self._refuse(send)
            return
        self.in_flight += 1
        try:
            # A list route answers on the event loop without pausing, so without this pause
            # requests that arrived together would be admitted one at a time and a burst
            # never shed: each is counted first, then the first `limit` are handled.
            await asyncio.sleep(0)
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, send: Send) -> None:
        await send_busy(
            send,
            f"server busy: {self.limit} requests in flight, the most it takes at once; "
            f"retry after {self.retry_after_seconds} s",
            self.retry_after_seconds,
        )


async def send_busy(send: Send, detail: str, retry_after_seconds: int) -> None:
    """Answer 503 with ``detail`` and ``Retry-After`` straight from ASGI, before any route
    runs: shedding must cost less than the work it saves."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after_seconds).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
