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

from recommender.experiments.config import INTERLEAVED
from recommender.experiments.tokens import new_nonce
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.requests import ListRequest
from recommender.serving.views import lists_view
from service.access_log import INDEX_VERSION_HEADER
from service.cache import CachedResponse, ResponseCache
from service.http_caching import answer_etag
from service.metrics import Metrics
from service.tracking import Assignment, Tracking
from service.workload import ListWork, list_cost

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
        tracking: Tracking,
    ) -> None:
        """Answer from ``engine`` through ``cache``, computing on ``work``'s threads;
        ``weights`` are the configured ones; ``tracking`` assigns variants and stamps each
        answer with its recommendation id."""
        self.engine = engine
        self.cache = cache
        self.metrics = metrics
        self.weights = weights
        self.work = work
        self.tracking = tracking

    async def related(
        self, article_id: str, options: ListRequest, assignment: Assignment
    ) -> Response:
        """The lists of one published article, as ``GET /articles/{id}/related`` answers them
        (its ``.html`` twin and the demo page share this answer and its cache entry).

        Raises:
            UnknownArticle: no published article has this id (answered with 404).
            Busy: the list cannot be computed now (answered with 503).
        """
        engine = self.engine
        return await self.tracked(
            ("related", article_id),
            lambda request: engine.lists_for(article_id, request),
            options,
            assignment,
            source=article_id,
            cost=list_cost(options),
        )

    async def tracked(
        self,
        key: tuple[Hashable, ...],
        make: Callable[[ListRequest], RelatedLists],
        options: ListRequest,
        assignment: Assignment,
        *,
        source: str,
        cost: int,
    ) -> Response:
        """The lists that ``make`` computes for ``options``, as ``assignment``'s variant makes
        them, stamped with a new recommendation id for ``source``.

        A variant's answer is cached under ``key`` plus its request (what
        :func:`service.batch.related_key` spells for an article). An interleaved answer is
        drawn from both variants' lists with coin flips of its own, so it is never cached.

        Raises:
            Busy: the work of this cost cannot be admitted now (answered with 503).
        """
        nonce = new_nonce()
        if assignment.variant == INTERLEAVED:
            first, second = self.tracking.arms(options, self.weights)
            tracking = self.tracking
            return await self.answer(
                None,
                lambda: tracking.interleaved(make(first), make(second), nonce),
                explain=options.explain,
                cost=2 * cost,
                assignment=assignment,
                source=source,
                nonce=nonce,
            )
        request = self.tracking.request_for(assignment, options, self.weights)
        return await self.answer(
            (*key, request),
            lambda: make(request),
            explain=options.explain,
            cost=cost,
            assignment=assignment,
            source=source,
            nonce=nonce,
        )

    async def answer(
        self,
        key: Hashable | None,
        compute: Callable[[], RelatedLists],
        *,
        explain: bool,
        cost: int,
        assignment: Assignment,
        source: str,
        nonce: str,
    ) -> Response:
        """The lists as JSON, from the cache when this request was answered in this generation,
        stamped with the recommendation id of ``nonce`` (:meth:`Tracking.stamp`).

        ``key`` must hold everything that shapes the answer (None: not cached). ``X-Cache``
        says whether the cache answered (``hit``) or the engine did (``miss``). A cached
        answer is sent from the event loop; ``compute`` runs on a thread of
        :class:`~service.workload.ListWork`, admitted by its ``cost``
        (:func:`~service.workload.list_cost`), so that no list holds up the loop.

        Raises:
            Busy: the work of this cost cannot be admitted now (answered with 503).
        """
        generation = self.engine.generation  # read first: see ResponseCache.put
        try:
            cached = self.cache.get(key, generation) if key is not None else None
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
        return JSONBytes(self.tracking.stamp(cached, assignment, source, nonce), headers=headers)


def encoded_answer(lists: RelatedLists, explain: bool) -> CachedResponse:
    """``lists`` as the JSON body of a list answer, with its index version and ETag: what the
    response cache holds."""
    view = lists_view(lists, explain=explain)
    return CachedResponse(
        encode_json(view),
        lists.index_version,
        etag=answer_etag(view),
        ids=tuple(lists.shown().items()),
        teams=tuple(lists.teams.items()),
    )
