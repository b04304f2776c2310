"""``POST /related``: the two lists for a draft, or for a set of articles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import APIRouter, Response

from recommender.engine import RelatedLists
from recommender.scoring import Weights
from service.deps import CacheDep, EngineDep, MetricsDep, ReadAccess, SettingsDep
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.responses import lists_response
from service.schemas import RelatedIn, RelatedOut

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
def post_related(
    query: RelatedIn,
    engine: EngineDep,
    settings: SettingsDep,
    cache: CacheDep,
    metrics: MetricsDep,
) -> Response:
    """Both lists for draft ``text`` (not yet published), or for published ``ids``.

    With ``ids`` ("more like these", e.g. a reader's last reads) the lists are built around
    the articles' mean vector and hold none of them. With ``text`` recency is measured from
    now, and the text is embedded by the model, so the first such request may be slow.
    """
    request = query.to_request(Weights.from_settings(settings))
    compute: Callable[[], RelatedLists]
    if query.text is not None:
        text = query.text
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key: tuple[object, ...] = ("text", digest, request)
        compute = lambda: engine.like_text(text, request)  # noqa: E731
    else:
        ids = tuple(query.ids or ())
        key = ("ids", ids, request)
        compute = lambda: engine.like_articles(ids, request)  # noqa: E731
    return lists_response(
        key, compute, engine=engine, cache=cache, metrics=metrics, explain=request.explain
    )
