"""JSON answers that name their index version, and the cached answer of a list request."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Response

from recommender.engine import Engine, RelatedLists
from recommender.views import lists_view
from service.access import INDEX_VERSION_HEADER
from service.cache import CachedResponse, ResponseCache
from service.metrics import Metrics

__all__ = ["CACHE_HEADER", "json_response", "lists_response"]

CACHE_HEADER = "X-Cache"
_JSON = "application/json"


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_response(
    payload: dict[str, Any], *, index_version: str, status_code: int = 200
) -> Response:
    """``payload`` as JSON, with the index version in the ``X-Index-Version`` header too."""
    return Response(
        _encode(payload),
        status_code=status_code,
        media_type=_JSON,
        headers={INDEX_VERSION_HEADER: index_version},
    )


def lists_response(
    key: Hashable,
    compute: Callable[[], RelatedLists],
    *,
    engine: Engine,
    cache: ResponseCache,
    metrics: Metrics,
    explain: bool,
) -> Response:
    """Both lists as JSON, from the cache when this request was answered in this generation.

    ``key`` must hold everything that shapes the answer. ``X-Cache`` says whether the cache
    answered (``hit``) or the engine did (``miss``).
    """
    generation = engine.generation  # read first: see ResponseCache.put
    try:
        hash(key)
    except TypeError:  # an option that cannot be a key: answer without the cache
        lists = compute()
        return json_response(lists_view(lists, explain=explain), index_version=lists.index_version)
    cached = cache.get(key, generation)
    if cached is None:
        metrics.cache.labels("miss").inc()
        lists = compute()
        cached = CachedResponse(_encode(lists_view(lists, explain=explain)), lists.index_version)
        cache.put(key, generation, cached)
        result = "miss"
    else:
        metrics.cache.labels("hit").inc()
        result = "hit"
    return Response(
        cached.body,
        media_type=_JSON,
        headers={INDEX_VERSION_HEADER: cached.index_version, CACHE_HEADER: result},
    )
