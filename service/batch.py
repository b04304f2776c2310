"""``POST /related:batch``: the lists of many published articles in one answer, slot by slot.

Each id is answered exactly as ``GET /articles/{id}/related`` answers it with the same options,
and through the same response cache under the same key: a batch sent after page views is
mostly cache hits, and a cache warmer's batch fills the cache for the page views that follow.
The ids the cache does not hold are computed together as one piece of list work on a lane's
thread, admitted by the sum of their costs (:func:`~service.workload.list_cost` each), so a
batch weighs on the lanes as its lists would one by one; a batch too costly for the heavy
lane's budget runs only while that lane is idle, and is refused with 503 otherwise.

An id that is not a published article gets a slot with status 404 and the reason; the other
ids are answered all the same. The answer is spliced from the cached bodies of each id, so a
list is never serialised twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from recommender.serving.engine import Engine, UnknownArticle
from recommender.serving.requests import ListRequest
from service.cache import CachedResponse
from service.responses import JSONBytes, ListAnswers, encode_json, encoded_answer
from service.workload import list_cost

__all__ = ["answer_batch", "related_key"]

_Answer = CachedResponse | UnknownArticle


def related_key(article_id: str, request: ListRequest) -> Hashable:
    """The response-cache key of ``GET /articles/{id}/related`` (service/routes/articles.py
    makes the same tuple): what the batch shares with it."""
    return ("related", article_id, request)


async def answer_batch(lists: ListAnswers, ids: Sequence[str], request: ListRequest) -> JSONBytes:
    """The lists of each of ``ids`` as ``{"answers": [...]}``, one slot per id in order: ``{"id",
    "status": 200, "lists"}``, or ``{"id", "status": 404, "detail"}`` for an id that is not a
    published article.

    Raises:
        Busy: the ids the cache does not hold cost more than their lane admits now (503).
    """
    generation = lists.engine.generation  # read first: see ResponseCache.put
    cache = lists.cache if _hashable(request) else None  # else answered without the cache
    answers: dict[str, _Answer] = {}
    for article_id in dict.fromkeys(ids):
        cached = cache.get(related_key(article_id, request), generation) if cache else None
        if cached is not None:
            answers[article_id] = cached
    missing = [article_id for article_id in dict.fromkeys(ids) if article_id not in answers]
    lists.metrics.cache_hits.inc(len(answers))
    if missing:
        lists.metrics.cache_misses.inc(len(missing))
        engine = lists.engine
        computed = await lists.work.run(
            lambda: _compute(engine, missing, request), len(missing) * list_cost(request)
        )
        for article_id, answer in computed.items():
            if cache is not None and isinstance(answer, CachedResponse):
                cache.put(related_key(article_id, request), generation, answer)
        answers.update(computed)
    slots = b",".join(_slot(article_id, answers[article_id]) for article_id in ids)
    return JSONBytes(b'{"answers":[' + slots + b"]}")


def _compute(engine: Engine, ids: list[str], request: ListRequest) -> dict[str, _Answer]:
    answers: dict[str, _Answer] = {}
    for article_id in ids:
        try:
            found = engine.lists_for(article_id, request)
        except UnknownArticle as exc:
            answers[article_id] = exc
        else:
            answers[article_id] = encoded_answer(found, request.explain)
    return answers


def _hashable(request: ListRequest) -> bool:
    try:
        hash(request)
    except TypeError:
        return False
    return True


def _slot(article_id: str, answer: _Answer) -> bytes:
    if isinstance(answer, UnknownArticle):
        return encode_json({"id": article_id, "status": 404, "detail": str(answer)})
    head = encode_json({"id": article_id, "status": 200})
    return head[:-1] + b',"lists":' + answer.body + b"}"
