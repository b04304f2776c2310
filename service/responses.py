"""JSON answers that name their index version, and the cached answer of a list request.

Answers are serialised here with orjson, straight from the view dicts, and returned as a
``Response``: FastAPI then sends the bytes as they are. A route's ``response_model`` stays as
documentation (the OpenAPI schema) and is not validated again on every answer, which would
cost more than building the lists.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import orjson
from starlette.responses import Response

from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.views import lists_view
from service.access_log import INDEX_VERSION_HEADER
from service.cache import CachedResponse, ResponseCache
from service.http_caching import answer_etag
from service.metrics import Metrics
from service.workload import ListWork

__all__ = [
    "CACHE_HEADER",
    "JSONBytes",
    "ListAnswers",
    "encode_json",
    "encoded_answer",
    "json_response",
]

CACHE_HEADER = "X-Cache"


def encode_json(payload: Any) -> bytes:
    """``payload`` as compact UTF-8 JSON (numpy numbers included)."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


class JSONBytes(Response):
    """An answer whose body is JSON already serialised."""

    media_type = "application/json"


def json_response(
    payload: dict[str, Any], *, index_version: str, status_code: int = 200
) -> Response:
    """``payload`` as JSON, with the index version in the ``X-Index-Version`` header too."""
    return JSONBytes(
        encode_json(payload),
        status_code=status_code,
        headers={INDEX_VERSION_HEADER: index_version},
    )


class ListAnswers:
    """Answers list requests as JSON: from the response cache, else from the engine.

    One per worker, made once the engine is loaded; it holds what every list answer needs, so
    that a list route resolves one dependency for all of it.
    """

    def __init__(
        self,
        engine: Engine,
        cache: ResponseCache,
        metrics: Metrics,
        weights: Weights,
        work: ListWork,
    ) -> None:
        """Answer from ``engine`` through ``cache``, computing on ``work``'s threads;
        ``weights`` are the configured ones."""
        self.engine = engine
        self.cache = cache
        self.metrics = metrics
        self.weights = weights
        self.work = work

    async def answer(
        self,
        key: Hashable,
        compute: Callable[[], RelatedLists],
        *,
        explain: bool,
        cost: int,
    ) -> Response:
        """Both lists as JSON, from the cache when this request was answered in this generation.

        ``key`` must hold everything that shapes the answer. ``X-Cache`` says whether the cache
        answered (``hit``) or the engine did (``miss``). A cached answer is sent from the event
        loop; ``compute`` runs on a thread of :class:`~service.workload.ListWork`, admitted by
        its ``cost`` (:func:`~service.workload.list_cost`), so that no list holds up the loop.

        Raises:
            Busy: the work of this cost cannot be admitted now (answered with 503).
        """
        generation = self.engine.generation  # read first: see ResponseCache.put
        try:
            cached = self.cache.get(key, generation)
        except TypeError:  # an option that cannot be a key: answer without the cache
            cached = None
            key = None
        if cached is None:
            self.metrics.cache_misses.inc()
            # Serialising 150 explained items takes time too: done on the same thread.
            cached = await self.work.run(lambda: encoded_answer(compute(), explain), cost)
            if key is not None:
                self.cache.put(key, generation, cached)
            result = "miss"
        else:
            self.metrics.cache_hits.inc()
            result = "hit"
        headers = {INDEX_VERSION_HEADER: cached.index_version, CACHE_HEADER: result}
        if cached.etag:
            headers["ETag"] = cached.etag  # Cache-Control and 304s: service/http_caching.py
        return JSONBytes(cached.body, headers=headers)


def encoded_answer(lists: RelatedLists, explain: bool) -> CachedResponse:
    """``lists`` as the JSON body of a list answer, with its index version and ETag: what the
    response cache holds."""
    view = lists_view(lists, explain=explain)
    return CachedResponse(encode_json(view), lists.index_version, etag=answer_etag(view))
