"""``GET /articles?q=``: find articles by words of their headline or by their URL.

For an editor or a page that knows a headline or URL but not the id the lists are asked by
(:mod:`recommender.serving.lookup`, also behind ``newsrec find``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from recommender.serving.lookup import MAX_FOUND, MAX_QUERY_CHARS, InvalidQuery, find_articles
from recommender.serving.views import article_view
from service.deps import EngineDep, ReadAccess
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.responses import json_response
from service.schemas import FoundOut

__all__ = ["router"]

router = APIRouter(prefix="/articles", tags=["articles"])


@router.get(
    "",
    response_model=FoundOut,
    dependencies=[ReadAccess],
    responses=responses(
        {422: {"description": "An empty or too long query, or a limit out of range."}},
        AUTH_RESPONSES,
        BUSY_RESPONSES,
    ),
)
def find(
    engine: EngineDep,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="Words of the headline (all must appear, in the title or URL), or the "
            "article's URL or id.",
            examples=["lanthorn bridge cracks"],
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_FOUND, description="Articles at most.")] = 10,
) -> Response:
    """Published articles whose headline or URL holds every word of ``q``: the one whose URL
    or id is ``q`` first, then headlines holding the words in order, then the newest."""
    try:
        found = find_articles(engine.catalogue, q, limit)
    except InvalidQuery as exc:
        raise HTTPException(422, str(exc)) from None
    return json_response(
        {
            "query": found.query,
            "articles": [article_view(record) for record in found.articles],
            "more": found.more,
        },
        index_version=engine.index_version,
    )
