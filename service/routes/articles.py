"""Routes of the articles resource: the two lists under an article."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from recommender.engine import UnknownArticle
from recommender.requests import MAX_K, ListRequest
from recommender.views import lists_view
from service.deps import EngineDep
from service.schemas import RelatedOut

__all__ = ["router"]

router = APIRouter(prefix="/articles", tags=["articles"])

ArticleId = Annotated[str, Path(min_length=1, max_length=200, examples=["sample-001"])]


@router.get(
    "/{article_id}/related",
    response_model=RelatedOut,
    responses={404: {"description": "No published article has this id."}},
)
def get_related(
    article_id: ArticleId,
    engine: EngineDep,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Items per list.")] = 5,
    explain: Annotated[bool, Query(description="Attach each item's score parts.")] = False,
) -> dict[str, Any]:
    """More like this and Related for one published article."""
    try:
        lists = engine.related(article_id, ListRequest(k_more=k, k_related=k, explain=explain))
    except UnknownArticle as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return lists_view(lists, explain=explain)
