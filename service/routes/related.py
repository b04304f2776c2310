"""``POST /related``: the two lists for a draft, or for a set of articles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import APIRouter, Response

from recommender.serving.engine import RelatedLists
from service.deps import ListsDep, ReadAccess
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.schemas import RelatedIn, RelatedOut
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
)
async def post_related(query: RelatedIn, lists: ListsDep) -> Response:
    """The lists for draft ``text`` (not yet published), or for published ``ids``.

    With ``ids`` ("more like these", e.g. a reader's last reads) the lists are built around
    the articles' mean vector and hold none of them. With ``text`` recency is measured from
    now, and the text is embedded by the model, so the first such request may be slow.
    """
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
