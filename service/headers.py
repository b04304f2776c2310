"""Security headers on every answer: no content sniffing, no framing, and on the demo pages a
Content-Security-Policy that allows only the page's own script, style sheet and API.

The demo page renders catalogue text, which comes from outside. Jinja escapes it and the
page's script inserts text only as text; the policy is the second wall, so that markup that got
through anyway could neither run inline script nor load any from elsewhere. The API's own
answers are JSON, and ``nosniff`` stops a browser from reading them as anything else.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEMO_CSP", "SecurityHeaders"]

#: The policy of the pages under ``/demo/``: their script and style come from this server,
#: their script calls this server's API, and nothing else loads, runs or frames them.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
_DEMO = [*_ALWAYS, (b"content-security-policy", DEMO_CSP.encode())]


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _DEMO if str(scope.get("path", "")).startswith("/demo/") else _ALWAYS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
