"""``POST /related``: the lists for a draft, or for a set of articles; ``POST /related:batch``:
the lists of many articles in one call."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

from fastapi import APIRouter, Request, Response

from recommender.serving.engine import RelatedLists
from recommender.serving.requests import ListRequest
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
from service.tracking import assignment_of
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
    assignment = assignment_of(
        lists.tracking, http.headers, reader=query.reader, variant=query.variant
    )
    engine = lists.engine
    make: Callable[[ListRequest], RelatedLists]
    if query.text is not None:
        text = query.text
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key: tuple[Hashable, ...] = ("text", digest)
        make = lambda asked: engine.lists_for_text(text, asked)  # noqa: E731
        source = ""  # a draft has no id
    else:
        ids = tuple(query.ids or ())
        key = ("ids", ids)
        make = lambda asked: engine.lists_for_articles(ids, asked)  # noqa: E731
        source = " ".join(ids)  # as MIND writes a reader's history
    return await lists.tracked(
        key,
        make,
        request,
        assignment,
        source=source,
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
    assignment = assignment_of(
        lists.tracking, http.headers, reader=query.reader, variant=query.variant
    )
    return await answer_batch(lists, query.ids, query.to_request(lists.weights), assignment)
