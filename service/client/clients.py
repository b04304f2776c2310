"""The two clients, :class:`Client` and :class:`AsyncClient`: one method per route, over httpx.

A method builds its request with :mod:`service.client.calls`, sends it, retries it as
:class:`~service.client.retrying.Retry` says (503 and 429 after ``Retry-After``), and returns
the answer read into the service's output model, or raises one of
:mod:`service.client.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, Unpack

import httpx
import stamina

from service.client import calls
from service.client.calls import Call, ListQuery
from service.client.errors import ServiceUnreachable
from service.client.retrying import Retry
from service.schemas import (
    ArticleDetailOut,
    ArticleIn,
    ArticleWithIdIn,
    BatchOut,
    EventIn,
    EventsOut,
    FoundOut,
    OverrideOut,
    OverridesOut,
    ReindexOut,
    RelatedBatchOut,
    RelatedOut,
    UnpublishOut,
    UpsertOut,
)

__all__ = ["API_KEY_HEADER", "AsyncClient", "Client"]

T = TypeVar("T")

#: The header carrying the read or write key (``service.security`` reads it).
API_KEY_HEADER = "X-API-Key"
_DEFAULT_TIMEOUT = 30.0


class _Base:
    def __init__(self, base_url: str, api_key: str | None, retry: Retry | None) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:8000, got {base_url!r}"
            )
        self.base_url = str(url).rstrip("/")
        self.retry = retry or Retry()
        self._headers = {API_KEY_HEADER: api_key} if api_key else {}

    def _request(self, call: Call[Any]) -> dict[str, Any]:
        return {
            "method": call.method,
            "url": self.base_url + call.path,
            "params": call.params,
            "json": call.json,
            "headers": self._headers,
        }

    def _unreachable(self, exc: httpx.TransportError) -> ServiceUnreachable:
        return ServiceUnreachable(
            f"cannot reach the newsrec service at {self.base_url}: {type(exc).__name__}: {exc}"
        )


class Client(_Base):
    """A synchronous client of a newsrec service.

    Args:
        base_url: the service's URL, e.g. ``http://127.0.0.1:8000``.
        api_key: ``NEWSREC_API_KEY`` for writes and admin, or ``NEWSREC_READ_KEY`` for reads
            when the service requires one.
        timeout: seconds to wait for each answer.
        retry: the retry policy (default :class:`Retry`; ``Retry(attempts=1)`` never retries).
        http: an ``httpx.Client`` to send with (for proxies, TLS, event hooks); the client
            closes it only if it made it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
        retry: Retry | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, retry)
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._caller = stamina.RetryingCaller(**self.retry.caller_options())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections (only those of an ``httpx.Client`` the client made)."""
        if self._owns_http:
            self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send ``call`` with retries and read its answer."""
        return self._caller(self.retry.backoff, self._send_once, call)

    def _send_once(self, call: Call[T]) -> T:
        try:
            response = self._http.request(**self._request(call))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return call.result(response)

    def article(self, article_id: str, *, min_generation: int | None = None) -> ArticleDetailOut:
        """One published article in full (``GET /articles/{id}``)."""
        return self.send(calls.article(article_id, min_generation=min_generation))

    def related(
        self, article_id: str, *, min_generation: int | None = None, **options: Unpack[ListQuery]
    ) -> RelatedOut:
        """The lists of a published article (``GET /articles/{id}/related``)."""
        return self.send(calls.related(article_id, options, min_generation=min_generation))

    def related_batch(
        self,
        ids: Iterable[str],
        *,
        min_generation: int | None = None,
        **options: Unpack[ListQuery],
    ) -> RelatedBatchOut:
        """The lists of up to 500 published articles, one slot per id in order; an unknown
        id gets a slot with ``status`` 404 rather than failing the call (``POST
        /related:batch``)."""
        return self.send(calls.related_batch(ids, options, min_generation=min_generation))

    def related_html(
        self, article_id: str, *, heading: int | None = None, **options: Unpack[ListQuery]
    ) -> str:
        """The boxes of a published article as HTML (``GET /articles/{id}/related.html``)."""
        return self.send(calls.related_html(article_id, options, heading=heading))

    def related_to_text(
        self, text: str, *, min_generation: int | None = None, **options: Unpack[ListQuery]
    ) -> RelatedOut:
        """The lists for a draft that is not published (``POST /related``)."""
        return self.send(calls.related_to_text(text, options, min_generation=min_generation))

    def related_to_articles(
        self,
        ids: Iterable[str],
        *,
        min_generation: int | None = None,
        **options: Unpack[ListQuery],
    ) -> RelatedOut:
        """The lists around published articles, e.g. a reader's last reads (``POST
        /related``)."""
        return self.send(calls.related_to_articles(ids, options, min_generation=min_generation))

    def put_article(self, article_id: str, article: ArticleIn | Mapping[str, Any]) -> UpsertOut:
        """Add or update an article (``PUT /articles/{id}``; the write key)."""
        return self.send(calls.put_article(article_id, article))

    def put_articles(self, articles: Iterable[ArticleWithIdIn | Mapping[str, Any]]) -> BatchOut:
        """Add or update up to 500 articles at once (``POST /articles:batch``; the write key)."""
        return self.send(calls.put_articles(articles))

    def delete_article(self, article_id: str) -> UnpublishOut:
        """Unpublish an article (``DELETE /articles/{id}``; the write key)."""
        return self.send(calls.delete_article(article_id))

    def send_events(self, events: Iterable[EventIn | Mapping[str, Any]]) -> EventsOut:
        """Record up to 1,000 views and clicks (``POST /events``; the write key)."""
        return self.send(calls.send_events(events))

    def find(self, q: str, *, limit: int | None = None) -> FoundOut:
        """Published articles by headline words, URL or id (``GET /articles?q=``)."""
        return self.send(calls.find(q, limit=limit))

    def overrides(self, *, every: bool = False) -> OverridesOut:
        """The pins and blocks in force; with ``every``, all ever made (``GET /overrides``;
        the write key)."""
        return self.send(calls.overrides(every=every))

    def pin(
        self,
        source: str,
        target: str,
        *,
        by: str,
        position: int | None = None,
        into: Literal["related", "more_like_this"] | None = None,
        until: str | None = None,
        reason: str | None = None,
    ) -> OverrideOut:
        """Pin ``target`` into ``source``'s Related list, or ``into`` More like this
        (``POST /overrides/pins``; the write key). ``until``: a date, time or duration
        (``7d``)."""
        return self.send(
            calls.pin(
                source, target, by=by, position=position, into=into, until=until, reason=reason
            )
        )

    def block(
        self,
        target: str,
        *,
        by: str,
        source: str | None = None,
        until: str | None = None,
        reason: str | None = None,
    ) -> OverrideOut:
        """Keep ``target`` out of ``source``'s lists, or of every list (``POST
        /overrides/blocks``; the write key)."""
        return self.send(calls.block(target, by=by, source=source, until=until, reason=reason))

    def remove_override(self, override_id: int, *, by: str) -> OverrideOut:
        """Stop a pin or block from applying (``DELETE /overrides/{id}``; the write key)."""
        return self.send(calls.remove_override(override_id, by=by))

    def reindex(self) -> ReindexOut:
        """Start a rebuild of the index (``POST /admin/reindex``; the write key)."""
        return self.send(calls.reindex())

    def reindex_state(self) -> ReindexOut:
        """The state of the rebuild (``GET /admin/reindex``; the write key)."""
        return self.send(calls.reindex_state())

    def live(self) -> dict[str, Any]:
        """``GET /livez``."""
        return self.send(calls.live())

    def ready(self) -> dict[str, Any]:
        """``GET /readyz``: ``status`` is "ready" or "not ready" (with ``reason``)."""
        return self.send(calls.ready())

    def metrics(self) -> str:
        """The Prometheus metrics text (``GET /metrics``)."""
        return self.send(calls.metrics())

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI description (``GET /openapi.json``)."""
        return self.send(calls.openapi())

    def demo_page(self, article_id: str, *, k: int | None = None) -> str:
        """The demo page of an article, as HTML (``GET /demo/articles/{id}``)."""
        return self.send(calls.demo_page(article_id, k=k))


class AsyncClient(_Base):
    """The asynchronous twin of :class:`Client`: the same methods, awaited."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
        retry: Retry | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, retry)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._caller = stamina.AsyncRetryingCaller(**self.retry.caller_options())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections (only those of an ``httpx.AsyncClient`` the client made)."""
        if self._owns_http:
            await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Send ``call`` with retries and read its answer."""
        return await self._caller(self.retry.backoff, self._send_once, call)

    async def _send_once(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(**self._request(call))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return call.result(response)

    async def article(
        self, article_id: str, *, min_generation: int | None = None
    ) -> ArticleDetailOut:
        """One published article in full (``GET /articles/{id}``)."""
        return await self.send(calls.article(article_id, min_generation=min_generation))

    async def related(
        self, article_id: str, *, min_generation: int | None = None, **options: Unpack[ListQuery]
    ) -> RelatedOut:
        """The lists of a published article (``GET /articles/{id}/related``)."""
        return await self.send(calls.related(article_id, options, min_generation=min_generation))

    async def related_batch(
        self,
        ids: Iterable[str],
        *,
        min_generation: int | None = None,
        **options: Unpack[ListQuery],
    ) -> RelatedBatchOut:
        """The lists of up to 500 published articles, one slot per id in order; an unknown
        id gets a slot with ``status`` 404 rather than failing the call (``POST
        /related:batch``)."""
        return await self.send(calls.related_batch(ids, options, min_generation=min_generation))

    async def related_html(
        self, article_id: str, *, heading: int | None = None, **options: Unpack[ListQuery]
    ) -> str:
        """The boxes of a published article as HTML (``GET /articles/{id}/related.html``)."""
        return await self.send(calls.related_html(article_id, options, heading=heading))

    async def related_to_text(
        self, text: str, *, min_generation: int | None = None, **options: Unpack[ListQuery]
    ) -> RelatedOut:
        """The lists for a draft that is not published (``POST /related``)."""
        return await self.send(calls.related_to_text(text, options, min_generation=min_generation))

    async def related_to_articles(
        self,
        ids: Iterable[str],
        *,
        min_generation: int | None = None,
        **options: Unpack[ListQuery],
    ) -> RelatedOut:
        """The lists around published articles (``POST /related``)."""
        return await self.send(
            calls.related_to_articles(ids, options, min_generation=min_generation)
        )

    async def put_article(
        self, article_id: str, article: ArticleIn | Mapping[str, Any]
    ) -> UpsertOut:
        """Add or update an article (``PUT /articles/{id}``; the write key)."""
        return await self.send(calls.put_article(article_id, article))

    async def put_articles(
        self, articles: Iterable[ArticleWithIdIn | Mapping[str, Any]]
    ) -> BatchOut:
        """Add or update up to 500 articles at once (``POST /articles:batch``; the write key)."""
        return await self.send(calls.put_articles(articles))

    async def delete_article(self, article_id: str) -> UnpublishOut:
        """Unpublish an article (``DELETE /articles/{id}``; the write key)."""
        return await self.send(calls.delete_article(article_id))

    async def send_events(self, events: Iterable[EventIn | Mapping[str, Any]]) -> EventsOut:
        """Record up to 1,000 views and clicks (``POST /events``; the write key)."""
        return await self.send(calls.send_events(events))

    async def find(self, q: str, *, limit: int | None = None) -> FoundOut:
        """Published articles by headline words, URL or id (``GET /articles?q=``)."""
        return await self.send(calls.find(q, limit=limit))

    async def overrides(self, *, every: bool = False) -> OverridesOut:
        """The pins and blocks in force; with ``every``, all ever made (``GET /overrides``;
        the write key)."""
        return await self.send(calls.overrides(every=every))

    async def pin(
        self,
        source: str,
        target: str,
        *,
        by: str,
        position: int | None = None,
        into: Literal["related", "more_like_this"] | None = None,
        until: str | None = None,
        reason: str | None = None,
    ) -> OverrideOut:
        """Pin ``target`` into ``source``'s Related list, or ``into`` More like this
        (``POST /overrides/pins``; the write key). ``until``: a date, time or duration
        (``7d``)."""
        return await self.send(
            calls.pin(
                source, target, by=by, position=position, into=into, until=until, reason=reason
            )
        )

    async def block(
        self,
        target: str,
        *,
        by: str,
        source: str | None = None,
        until: str | None = None,
        reason: str | None = None,
    ) -> OverrideOut:
        """Keep ``target`` out of ``source``'s lists, or of every list (``POST
        /overrides/blocks``; the write key)."""
        return await self.send(
            calls.block(target, by=by, source=source, until=until, reason=reason)
        )

    async def remove_override(self, override_id: int, *, by: str) -> OverrideOut:
        """Stop a pin or block from applying (``DELETE /overrides/{id}``; the write key)."""
        return await self.send(calls.remove_override(override_id, by=by))

    async def reindex(self) -> ReindexOut:
        """Start a rebuild of the index (``POST /admin/reindex``; the write key)."""
        return await self.send(calls.reindex())

    async def reindex_state(self) -> ReindexOut:
        """The state of the rebuild (``GET /admin/reindex``; the write key)."""
        return await self.send(calls.reindex_state())

    async def live(self) -> dict[str, Any]:
        """``GET /livez``."""
        return await self.send(calls.live())

    async def ready(self) -> dict[str, Any]:
        """``GET /readyz``: ``status`` is "ready" or "not ready" (with ``reason``)."""
        return await self.send(calls.ready())

    async def metrics(self) -> str:
        """The Prometheus metrics text (``GET /metrics``)."""
        return await self.send(calls.metrics())

    async def openapi(self) -> dict[str, Any]:
        """The OpenAPI description (``GET /openapi.json``)."""
        return await self.send(calls.openapi())

    async def demo_page(self, article_id: str, *, k: int | None = None) -> str:
        """The demo page of an article, as HTML (``GET /demo/articles/{id}``)."""
        return await self.send(calls.demo_page(article_id, k=k))
