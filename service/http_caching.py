"""HTTP caching of list answers: ``Cache-Control``, an ``ETag`` of what the lists hold, 304s.

A list answer carries a *weak* ETag (``W/"..."``) made from its content: a hash of the answer
as JSON, less its ``index_version``. The content is exactly what the index version, the
catalogue generation, the overrides, the clock and the request's options decided, so:

- a write that changes the list (an upsert that enters it, an unpublish of an item, a pin)
  changes the ETag;
- a write that leaves the list as it was (an article about something else) keeps it, although
  it moves the catalogue generation and the ``+N`` of ``index_version`` on. A tag built from
  the generation would change on every write anywhere in the catalogue, and a page's cache
  would be emptied by each of them.

The tag is weak because the body is not byte-for-byte the same: the ``index_version`` in it
may have moved on, and a gzipped answer has other bytes than a plain one. A client holding an
answer with that tag holds the same lists; the 304's ``X-Index-Version`` names the current
version.

:class:`HttpCaching` serves the tags: a ``GET`` answered 200 with an ``ETag`` gets
``Cache-Control`` (``max-age`` from the ``cache_max_age`` setting; ``private`` when reads need
a key, so that a shared proxy does not hand them out to clients without one), and a request
whose ``If-None-Match`` names the tag gets ``304 Not Modified`` with no body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HttpCaching", "answer_etag", "cache_control", "etag_matches"]

_CONTENT_HEADERS = frozenset({b"content-length", b"content-type", b"content-encoding"})


def answer_etag(view: Mapping[str, Any]) -> str:
    """The weak ETag of a list answer ``view`` (the JSON view of its lists): a hash of it as
    JSON, with ``index_version`` left out (see the module's description)."""
    content = {name: value for name, value in view.items() if name != "index_version"}
    encoded = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return f'W/"{hashlib.blake2b(encoded, digest_size=16).hexdigest()}"'


def cache_control(max_age: int, *, private: bool) -> str:
    """The ``Cache-Control`` of a list answer: reusable for ``max_age`` seconds (``no-cache``
    at 0: kept, but checked with its ETag before each reuse); ``private`` keeps it out of
    shared caches.

    Raises:
        ValueError: ``max_age`` is negative.
    """
    if max_age < 0:
        raise ValueError(f"max_age must be >= 0 seconds, got {max_age}")
    scope = "private" if private else "public"
    return f"{scope}, max-age={max_age}" if max_age else f"{scope}, no-cache"


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag``, by the weak comparison RFC 9110
    prescribes for it (``W/`` ignored on both sides); ``*`` matches any tag."""

    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    wanted = opaque(etag)
    return any(
        candidate.strip() == "*" or opaque(candidate) == wanted
        for candidate in if_none_match.split(",")
    )


class HttpCaching:
    """ASGI middleware giving ``GET`` answers that carry an ``ETag`` their ``Cache-Control``,
    and answering a matching ``If-None-Match`` with ``304 Not Modified`` and no body."""

    def __init__(self, app: ASGIApp, *, cache_control: str) -> None:
        """Wrap ``app``; ``cache_control`` is the header value given to tagged answers."""
        self.app = app
        self.cache_control = cache_control.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # ASGI header names are lower case; scanning them beats building a Headers object.
        if_none_match = next(
            (value for name, value in scope["headers"] if name == b"if-none-match"), None
        )
        not_modified = False

        async def tagged(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    not_modified = self._tag(message, if_none_match)
            elif not_modified:
                if message.get("more_body", False):
                    return  # the body of a 304 is not sent
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, tagged)

    def _tag(self, start: Message, if_none_match: bytes | None) -> bool:
        # Adds Cache-Control to a tagged answer, and makes it a 304 if the client has it.
        etag = None
        has_cache_control = False
        for name, value in start.get("headers", ()):
            name = name.lower()
            if name == b"etag":
                etag = value
            elif name == b"cache-control":
                has_cache_control = True
        if etag is None:
            return False
        if not has_cache_control:
            start["headers"] = [*start["headers"], (b"cache-control", self.cache_control)]
        if if_none_match is None or not etag_matches(
            if_none_match.decode("latin-1"), etag.decode("latin-1")
        ):
            return False
        start["status"] = 304
        start["headers"] = [
            (n, v) for n, v in start["headers"] if n.lower() not in _CONTENT_HEADERS
        ]
        return True
