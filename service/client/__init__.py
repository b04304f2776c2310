"""A Python client of the newsrec HTTP API, sync and async (httpx).

>>> from service.client import Client
>>> with Client("http://127.0.0.1:8000") as newsrec:          # doctest: +SKIP
...     lists = newsrec.related("sample-039", k=3)
...     [item.title for item in lists.related]

One method per route (:mod:`service.client.clients`), answers read into the service's own
models (:mod:`service.schemas`), 503 and 429 retried after ``Retry-After``
(:mod:`service.client.retrying`), and every other error raised as an exception carrying the
server's message (:mod:`service.client.errors`).
"""

from service.client.calls import Call, ListQuery
from service.client.clients import API_KEY_HEADER, AsyncClient, Client
from service.client.errors import (
    ApiError,
    Forbidden,
    InvalidRequest,
    NewsrecError,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServiceBusy,
    ServiceUnreachable,
    Unauthorized,
)
from service.client.retrying import Retry

__all__ = [
    "API_KEY_HEADER",
    "ApiError",
    "AsyncClient",
    "Call",
    "Client",
    "Forbidden",
    "InvalidRequest",
    "ListQuery",
    "NewsrecError",
    "NotFound",
    "PayloadTooLarge",
    "Retry",
    "ServerError",
    "ServiceBusy",
    "ServiceUnreachable",
    "Unauthorized",
]
