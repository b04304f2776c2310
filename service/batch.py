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

from collections.abc import Callable, Hashable, Sequence

from recommender.experiments.config import INTERLEAVED
from recommender.experiments.tokens import new_nonce
from recommender.serving.engine import RelatedLists, UnknownArticle
from recommender.serving.requests import ListRequest
from service.cache import CachedResponse
from service.responses import JSONBytes, ListAnswers, encode_json, encoded_answer
from service.tracking import Assignment, Tracking
from service.workload import list_cost

__all__ = ["answer_batch", "related_key"]

_Answer = CachedResponse | UnknownArticle


def related_key(article_id: str, request: ListRequest) -> Hashable:
    """The response-cache key of ``GET /articles/{id}/related`` (service/routes/articles.py
    makes the same tuple): what the batch shares with it."""
    return ("related", article_id, request)


async def answer_batch(
    lists: ListAnswers, ids: Sequence[str], options: ListRequest, assignment: Assignment
) -> JSONBytes:
    """The lists of each of ``ids`` as ``{"answers": [...]}``, one slot per id in order: ``{"id",
    "status": 200, "lists"}``, or ``{"id", "status": 404, "detail"}`` for an id that is not a
    published article. Each slot's lists carry a recommendation id of their own, as
    ``assignment``'s variant made them.

    Raises:
        Busy: the ids the cache does not hold cost more than their lane admits now (503).
    """
    generation = lists.engine.generation  # read first: see ResponseCache.put
    tracking = lists.tracking
    interleaved = assignment.variant == INTERLEAVED
    request = options if interleaved else tracking.request_for(assignment, options, lists.weights)
    # Each slot is a served list with an id of its own; an interleaved id's coin flips are
    # drawn once, from this seed, for all the slots that repeat it.
    seeds = {article_id: new_nonce() for article_id in dict.fromkeys(ids)}
    # Interleaved lists are drawn afresh for each answer: never from the cache.
    cache = lists.cache if _hashable(request) and not interleaved else None
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
        if interleaved:
            first, second = tracking.arms(options, lists.weights)

            def make(article_id: str) -> RelatedLists:
                return tracking.interleaved(
                    engine.lists_for(article_id, first),
                    engine.lists_for(article_id, second),
                    seeds[article_id],
                )

            cost = 2 * len(missing) * list_cost(request)
        else:

            def make(article_id: str) -> RelatedLists:
                return engine.lists_for(article_id, request)

            cost = len(missing) * list_cost(request)
        computed = await lists.work.run(lambda: _compute(make, missing, request.explain), cost)
        for article_id, answer in computed.items():
            if cache is not None and isinstance(answer, CachedResponse):
                cache.put(related_key(article_id, request), generation, answer)
        answers.update(computed)
    slots = b",".join(
        _slot(article_id, answers[article_id], tracking, assignment, new_nonce())
        for article_id in ids
    )
    return JSONBytes(b'{"answers":[' + slots + b"]}")


def _compute(
    make: Callable[[str], RelatedLists], ids: list[str], explain: bool
) -> dict[str, _Answer]:
    answers: dict[str, _Answer] = {}
    for article_id in ids:
        try:
            found = make(article_id)
        except UnknownArticle as exc:
            answers[article_id] = exc
        else:
            answers[article_id] = encoded_answer(found, explain)
    return answers


def _hashable(request: ListRequest) -> bool:
    try:
        hash(request)
    except TypeError:
        return False
    return True


def _slot(
    article_id: str, answer: _Answer, tracking: Tracking, assignment: Assignment, nonce: str
) -> bytes:
    if isinstance(answer, UnknownArticle):
        return encode_json({"id": article_id, "status": 404, "detail": str(answer)})
    head = encode_json({"id": article_id, "status": 200})
    body = tracking.stamp(answer, assignment, article_id, nonce)
    return head[:-1] + b',"lists":' + body + b"}"
