"""``POST /related``: the lists for a draft, or for a set of articles; ``POST /related:batch``:
the lists of many articles in one call."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from recommender.serving.engine import RelatedLists
from service.batch import answer_batch
from service.deps import ListsDep, ReadAccess
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.freshness import MIN_GENERATION_PARAMETER, CatchUp
from service.schemas import (
    MAX_BATCH_ARTICLES,
    RelatedBatchIn,
    RelatedBatchOut,
    RelatedIn,
    RelatedOut,
)
from service.workload import list_cost

__all__ = ["router"]

router = APIRouter(tags=["related"])


@router.post(
    "/related",
    response_model=RelatedOut,
    dependencies=[ReadAccess],
    responses=responses(
        {404: {"description": "One of the ids is not a published article."}},
        AUTH_RESPONSES,
        BUSY_RESPONSES,
        {413: {"description": "The body is larger than NEWSREC_MAX_BODY_BYTES."}},
    ),
    openapi_extra={"parameters": [MIN_GENERATION_PARAMETER]},
)
async def post_related(query: RelatedIn, lists: ListsDep, http: Request) -> Response:
    """The lists for draft ``text`` (not yet published), or for published ``ids``.

    With ``ids`` ("more like these", e.g. a reader's last reads) the lists are built around
    the articles' mean vector and hold none of them. With ``text`` recency is measured from
    now, and the text is embedded by the model, so the first such request may be slow.
    ``min_generation`` waits until this worker includes a write (read-your-write).
    """
    catch_up: CatchUp = http.app.state.catch_up
    await catch_up.settle(http)
    request = query.to_request(lists.weights)
    engine = lists.engine
    compute: Callable[[], RelatedLists]
    if query.text is not None:
        text = query.text
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key: tuple[object, ...] = ("text", digest, request)
        compute = lambda: engine.lists_for_text(text, request)  # noqa: E731
    else:
        ids = tuple(query.ids or ())
        key = ("ids", ids, request)
        compute = lambda: engine.lists_for_articles(ids, request)  # noqa: E731
    return await lists.answer(
        key,
        compute,
        explain=request.explain,
        cost=list_cost(request, text=query.text is not None),
    )


@router.post(
    "/related:batch",
    response_model=RelatedBatchOut,
    dependencies=[ReadAccess],
    responses=responses(
        {422: {"description": f"More than {MAX_BATCH_ARTICLES} ids, or invalid options."}},
        AUTH_RESPONSES,
        BUSY_RESPONSES,
        {413: {"description": "The body is larger than NEWSREC_MAX_BODY_BYTES."}},
    ),
    openapi_extra={"parameters": [MIN_GENERATION_PARAMETER]},
)
async def post_related_batch(query: RelatedBatchIn, lists: ListsDep, http: Request) -> Response:
    """The lists of up to 500 published articles, one slot per id in the order given.

    Each slot holds what ``GET /articles/{id}/related`` answers with the same options (and
    shares its cache), or, for an id that is not a published article, ``status`` 404 and
    ``detail``: one unknown id does not fail the batch. For a page or a cache warmer.
    """
    catch_up: CatchUp = http.app.state.catch_up
    await catch_up.settle(http)
    return await answer_batch(lists, query.ids, query.to_request(lists.weights))
