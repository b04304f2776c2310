"""What the client raises: one exception per kind of failure, each carrying the server's words.

Every error answer of the service has the body ``{"detail": ...}``: a sentence, or for 422 a
list of problems (``loc``, ``msg``). :func:`error_for` turns such an answer into the matching
exception, whose message names the request and quotes the server, so that a traceback alone
says what to fix.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "Forbidden",
    "InvalidRequest",
    "NewsrecError",
    "NotFound",
    "PayloadTooLarge",
    "ServerError",
    "ServiceBusy",
    "ServiceUnreachable",
    "Unauthorized",
    "error_for",
    "retry_after_seconds",
]


class NewsrecError(Exception):
    """Any failure of a client call."""


class ServiceUnreachable(NewsrecError):
    """No answer: the connection was refused, reset or timed out."""


class ApiError(NewsrecError):
    """The service answered with an error status.

    Attributes:
        status: the HTTP status code.
        detail: the body's ``detail`` (a sentence, or a list of problems), else the body text.
        method, url: the request that failed.
    """

    def __init__(self, response: httpx.Response, detail: Any) -> None:
        """The error of ``response``, whose body said ``detail``."""
        self.status = response.status_code
        self.detail = detail
        self.method = response.request.method
        self.url = str(response.request.url)
        self.headers = response.headers
        path = response.request.url.raw_path.decode("ascii", "replace").partition("?")[0]
        super().__init__(f"{self.method} {path}: {self.status}: {self._describe()}")

    def _describe(self) -> str:
        if isinstance(self.detail, str):
            return self.detail
        return json.dumps(self.detail, ensure_ascii=False)


class InvalidRequest(ApiError):
    """400 or 422: the request is not valid; ``problems`` lists where and why."""

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The problems the server listed (``loc``, ``msg``, ``type``); one if it gave a
        sentence."""
        if isinstance(self.detail, list):
            return [p if isinstance(p, dict) else {"msg": str(p)} for p in self.detail]
        return [{"loc": [], "msg": str(self.detail)}]

    def _describe(self) -> str:
        return "; ".join(
            ".".join(str(part) for part in problem.get("loc", [])) + f": {problem.get('msg')}"
            for problem in self.problems
        )


class Unauthorized(ApiError):
    """401: the API key is missing or not valid."""


class Forbidden(ApiError):
    """403: the key may not do this, or the service takes no writes."""


class NotFound(ApiError):
    """404: no published article has this id (or no such route)."""


class PayloadTooLarge(ApiError):
    """413: the body is larger than the service's ``NEWSREC_MAX_BODY_BYTES``."""


class ServiceBusy(ApiError):
    """429 or 503: the service shed the request or another job holds the writer lock.

    Raised once the retries are spent, or when the wait asked is longer than the client
    accepts. ``retry_after`` is the wait the server asked for, in seconds (None if it named
    none).
    """

    def __init__(self, response: httpx.Response, detail: Any) -> None:
        """The refusal of ``response``, with its ``Retry-After``."""
        super().__init__(response, detail)
        self.retry_after = retry_after_seconds(response)


class ServerError(ApiError):
    """A 5xx other than 503: the service failed."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    413: PayloadTooLarge,
    422: InvalidRequest,
    429: ServiceBusy,
    503: ServiceBusy,
}


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error answer (status 400 or more)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body["detail"] if isinstance(body, dict) and "detail" in body else response.text
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = ServerError if response.status_code >= 500 else ApiError
    return kind(response, detail)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait ``Retry-After`` asks for, in seconds: it may hold seconds or an HTTP date
    (RFC 9110); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
