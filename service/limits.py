"""The request body size limit (413), enforced before a body is read into memory."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """ASGI middleware answering 413 to a body larger than ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    sent in chunks is counted as it arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        """Wrap ``app``; bodies over ``max_bytes`` are refused."""
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: int | None) -> str:
        told = f"is {size} bytes" if size is not None else "is larger than that"
        return (
            f"request body {told}; the limit is {self.max_bytes} bytes "
            "(NEWSREC_MAX_BODY_BYTES); send fewer articles or events per request"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = JSONResponse({"detail": self._message(declared)}, status_code=413)
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI passes an HTTPException raised while reading the body through
                    # to its handler, which answers with this status and detail.
                    raise HTTPException(413, self._message(None))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
