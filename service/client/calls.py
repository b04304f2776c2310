"""One request description per route of the API: method, path, query, body and how to read
the answer.

Both clients send these, so a route is added to the client by one function here and one line
in each client (:mod:`service.client.clients`). Answers are read into the service's own output
models (:mod:`service.schemas`), so the client and the server cannot disagree on a field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from service.client.errors import error_for
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

__all__ = [
    "Call",
    "ListQuery",
    "article",
    "block",
    "delete_article",
    "demo_page",
    "find",
    "live",
    "metrics",
    "openapi",
    "overrides",
    "pin",
    "put_article",
    "put_articles",
    "ready",
    "reindex",
    "reindex_state",
    "related",
    "related_batch",
    "related_html",
    "related_to_articles",
    "related_to_text",
    "remove_override",
    "send_events",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Query = list[tuple[str, str]]


class ListQuery(TypedDict, total=False):
    """The list options of every list route (``ListOptions`` in :mod:`service.schemas`).

    ``weights`` maps signal weights to values (``{"w_pop": 0.5}``); every other key is the
    route's parameter of that name (``field`` holds ``NAME=VALUE`` texts), and None leaves it
    to the service's default. A key this type does not name yet is sent as it is.
    """

    k: int | None
    k_more: int | None
    k_related: int | None
    k_popular: int | None
    lists: str | Sequence[str] | None
    section: Sequence[str]
    exclude_section: Sequence[str]
    language: str | None
    max_age_days: float | None
    author: Sequence[str]
    kind: Sequence[str]
    tag: Sequence[str]
    field: Sequence[str]
    exclude: Sequence[str]
    explain: bool
    weights: Mapping[str, float]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how its answer becomes a value.

    ``answers`` are error statuses that are an answer of the route rather than a failure
    (``/readyz`` says "not ready" with 503).
    """

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Query = field(default_factory=list)
    json: Any = None
    answers: frozenset[int] = frozenset()

    def result(self, response: httpx.Response) -> T:
        """The value of ``response``; raises :class:`~service.client.errors.ApiError` for an
        error status."""
        if response.status_code >= 400 and response.status_code not in self.answers:
            raise error_for(response)
        return self.read(response)


def _model(kind: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: kind.model_validate_json(response.content)


def _json(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def _text(response: httpx.Response) -> str:
    return response.text


def _id(article_id: str) -> str:
    # Ids may hold '/', '%', '?' or '#'; the service reads them percent-encoded.
    if not article_id:
        raise ValueError("an article id must not be empty")
    return quote(article_id, safe="")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list_query(options: ListQuery) -> Query:
    query: Query = []
    given: Mapping[str, Any] = options
    for name, value in given.items():
        if value is None:
            continue
        if name == "weights":
            query.extend((weight, _value(v)) for weight, v in value.items())
        elif name == "lists" and not isinstance(value, str):
            query.append((name, ",".join(value)))
        elif isinstance(value, list | tuple | set | frozenset):
            query.extend((name, _value(v)) for v in value)
        else:
            query.append((name, _value(value)))
    return query


def _list_body(options: ListQuery) -> dict[str, Any]:
    body: dict[str, Any] = {}
    given: Mapping[str, Any] = options
    for name, value in given.items():
        if value is None:
            continue
        if name == "weights":
            body.update(value)
        elif name == "lists" and not isinstance(value, str):
            body[name] = ",".join(value)
        elif isinstance(value, tuple | set | frozenset):
            body[name] = list(value)
        else:
            body[name] = value
    return body


def _fresh(min_generation: int | None) -> Query:
    return [] if min_generation is None else [("min_generation", str(min_generation))]


def _given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _dump(item: BaseModel | Mapping[str, Any]) -> Any:
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", exclude_none=True)
    return dict(item)


def article(article_id: str, *, min_generation: int | None = None) -> Call[ArticleDetailOut]:
    """``GET /articles/{id}``."""
    return Call(
        "GET", f"/articles/{_id(article_id)}", _model(ArticleDetailOut), _fresh(min_generation)
    )


def related(
    article_id: str, options: ListQuery, *, min_generation: int | None = None
) -> Call[RelatedOut]:
    """``GET /articles/{id}/related``."""
    return Call(
        "GET",
        f"/articles/{_id(article_id)}/related",
        _model(RelatedOut),
        _list_query(options) + _fresh(min_generation),
    )


def related_batch(
    ids: Iterable[str], options: ListQuery, *, min_generation: int | None = None
) -> Call[RelatedBatchOut]:
    """``POST /related:batch``: one slot per id, in order."""
    body = {**_list_body(options), "ids": list(ids)}
    return Call("POST", "/related:batch", _model(RelatedBatchOut), _fresh(min_generation), body)


def related_html(article_id: str, options: ListQuery, *, heading: int | None = None) -> Call[str]:
    """``GET /articles/{id}/related.html``."""
    query = _list_query(options) + ([] if heading is None else [("heading", str(heading))])
    return Call("GET", f"/articles/{_id(article_id)}/related.html", _text, query)


def related_to_text(
    text: str, options: ListQuery, *, min_generation: int | None = None
) -> Call[RelatedOut]:
    """``POST /related`` with a draft's ``text``."""
    body = {**_list_body(options), "text": text}
    return Call("POST", "/related", _model(RelatedOut), _fresh(min_generation), body)


def related_to_articles(
    ids: Iterable[str], options: ListQuery, *, min_generation: int | None = None
) -> Call[RelatedOut]:
    """``POST /related`` with published ``ids`` ("more like these")."""
    body = {**_list_body(options), "ids": list(ids)}
    return Call("POST", "/related", _model(RelatedOut), _fresh(min_generation), body)


def put_article(article_id: str, item: ArticleIn | Mapping[str, Any]) -> Call[UpsertOut]:
    """``PUT /articles/{id}``."""
    return Call("PUT", f"/articles/{_id(article_id)}", _model(UpsertOut), json=_dump(item))


def put_articles(items: Iterable[ArticleWithIdIn | Mapping[str, Any]]) -> Call[BatchOut]:
    """``POST /articles:batch``."""
    body = {"articles": [_dump(item) for item in items]}
    return Call("POST", "/articles:batch", _model(BatchOut), json=body)


def find(q: str, *, limit: int | None = None) -> Call[FoundOut]:
    """``GET /articles?q=``."""

    query = [("q", q)] + ([] if limit is None else [("limit", str(limit))])
    return Call("GET", "/articles", _model(FoundOut), query)


def delete_article(article_id: str) -> Call[UnpublishOut]:
    """``DELETE /articles/{id}``."""
    return Call("DELETE", f"/articles/{_id(article_id)}", _model(UnpublishOut))


def send_events(events: Iterable[EventIn | Mapping[str, Any]]) -> Call[EventsOut]:
    """``POST /events``."""
    body = {"events": [_dump(event) for event in events]}
    return Call("POST", "/events", _model(EventsOut), json=body)


def overrides(*, every: bool = False) -> Call[OverridesOut]:
    """``GET /overrides`` (``all=true`` with ``every``)."""

    query = [("all", "true")] if every else []
    return Call("GET", "/overrides", _model(OverridesOut), query)


def pin(
    source: str,
    target: str,
    *,
    by: str,
    position: int | None = None,
    into: Literal["related", "more_like_this"] | None = None,
    until: str | None = None,
    reason: str | None = None,
) -> Call[OverrideOut]:
    """``POST /overrides/pins``."""

    body = _given(source=source, target=target, by=by, position=position, list=into)
    body |= _given(until=until, reason=reason)
    return Call("POST", "/overrides/pins", _model(OverrideOut), json=body)


def block(
    target: str,
    *,
    by: str,
    source: str | None = None,
    until: str | None = None,
    reason: str | None = None,
) -> Call[OverrideOut]:
    """``POST /overrides/blocks``."""

    body = _given(target=target, by=by, source=source, until=until, reason=reason)
    return Call("POST", "/overrides/blocks", _model(OverrideOut), json=body)


def remove_override(override_id: int, *, by: str) -> Call[OverrideOut]:
    """``DELETE /overrides/{id}``."""

    return Call("DELETE", f"/overrides/{int(override_id)}", _model(OverrideOut), [("by", by)])


def reindex() -> Call[ReindexOut]:
    """``POST /admin/reindex``."""
    return Call("POST", "/admin/reindex", _model(ReindexOut))


def reindex_state() -> Call[ReindexOut]:
    """``GET /admin/reindex``."""
    return Call("GET", "/admin/reindex", _model(ReindexOut))


def live() -> Call[dict[str, Any]]:
    """``GET /livez``."""
    return Call("GET", "/livez", _json)


def ready() -> Call[dict[str, Any]]:
    """``GET /readyz``: the answer also when not ready (its ``status`` and ``reason``)."""
    return Call("GET", "/readyz", _json, answers=frozenset({503}))


def metrics() -> Call[str]:
    """``GET /metrics``: the Prometheus text."""
    return Call("GET", "/metrics", _text)


def openapi() -> Call[dict[str, Any]]:
    """``GET /openapi.json``."""
    return Call("GET", "/openapi.json", _json)


def demo_page(article_id: str, *, k: int | None = None) -> Call[str]:
    """``GET /demo/articles/{id}``: the demo article page."""
    query = [] if k is None else [("k", str(k))]
    return Call("GET", f"/demo/articles/{_id(article_id)}", _text, query)
