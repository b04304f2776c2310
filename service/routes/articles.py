"""Routes of the articles resource: one article, its two lists, and the live write path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

import service.article_paths  # noqa: F401 - registers the {article_id:article_id} converter
from recommender.ingestion.updates import unpublish_article, upsert_articles
from recommender.serving.engine import UnknownArticle
from recommender.serving.views import article_view
from service.deps import EngineDep, ReadAccess, WriteAccess, get_lists
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, WRITE_RESPONSES, responses
from service.freshness import (
    MIN_GENERATION_PARAMETER,
    CatchUp,
    write_response,
)
from service.options import LIST_OPTION_PARAMETERS, list_options
from service.responses import json_response
from service.schemas import (
    ArticleDetailOut,
    ArticleIn,
    BatchIn,
    BatchOut,
    ProblemOut,
    RelatedOut,
    UnpublishOut,
    UpsertOut,
)
from service.tracking import assignment_of

__all__ = ["router"]

router = APIRouter(prefix="/articles", tags=["articles"])

ArticleId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="The article's id, as ingested. It may hold '/' (ids made from URL paths, "
        "such as 2024/05/story), sent as it is or as %2F; the characters a URL path reserves "
        "('%', '?', '#') are percent-encoded, as encodeURIComponent does.",
        examples=["sample-001"],
    ),
]
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ProblemOut, "description": "No published article has this id."}
}
_PUT_RESULTS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Updated, or unchanged."},
    201: {"model": UpsertOut, "description": "Added."},
}


@router.get(
    "/{article_id:article_id}/related",
    response_model=RelatedOut,
    dependencies=[ReadAccess],
    responses=responses(_UNKNOWN, AUTH_RESPONSES, BUSY_RESPONSES),
    openapi_extra={"parameters": [*LIST_OPTION_PARAMETERS, MIN_GENERATION_PARAMETER]},
)
async def get_related(article_id: ArticleId, request: Request) -> Response:
    """More like this, Related and Popular for one published article.

    *More like this*: the same story first, then the closest on the topic. *Related*: only what
    is related to the source (by content or by its readers), reordered by recency, popularity
    and co-reading. *Popular*: the most read right now. No list holds the source or a copy of
    it; a list shorter than asked says why in ``short``; ``lists=`` asks for only some. The
    answer names the index version it came from, in ``index_version`` and the
    ``X-Index-Version`` header; ``X-Cache`` says whether the cache answered.
    ``min_generation`` waits until this worker includes a write (read-your-write).

    The answer's ``recommendation_id`` names it: impression and click events sent back with it
    (``POST /events``) count for its ``variant``. ``reader`` (or the ``X-Newsrec-Reader``
    header) assigns the reader to a variant of the running experiment; ``variant`` forces one.
    """
    catch_up: CatchUp = request.app.state.catch_up
    await catch_up.settle(request)
    # Read here, not declared as dependencies: on the busiest route FastAPI's solving of two
    # more dependencies cost about a tenth of a cached answer. The options are documented by
    # ``openapi_extra`` either way.
    lists = await get_lists(request)
    query = await list_options(request)
    options = query.to_request(lists.weights)
    return await lists.related(
        article_id,
        options,
        assignment_of(lists.tracking, request.headers, reader=query.reader, variant=query.variant),
    )


@router.get(
    "/{article_id:article_id}",
    response_model=ArticleDetailOut,
    dependencies=[ReadAccess],
    responses=responses(_UNKNOWN, AUTH_RESPONSES, BUSY_RESPONSES),
    openapi_extra={"parameters": [MIN_GENERATION_PARAMETER]},
)
def get_article(article_id: ArticleId, engine: EngineDep, request: Request) -> Response:
    """One published article in full; ``min_generation`` waits until this worker includes
    a write (read-your-write)."""
    catch_up: CatchUp = request.app.state.catch_up
    catch_up.settle_now(request)
    version = engine.index_version
    record = engine.catalogue.get(article_id)
    if record is None:
        raise UnknownArticle(article_id)
    payload = {
        **article_view(record),
        "body": record.body,
        "popularity": record.popularity,
        "index_version": version,
    }
    return json_response(payload, index_version=version)


@router.put(
    "/{article_id:article_id}",
    response_model=UpsertOut,
    dependencies=[WriteAccess],
    responses=responses(
        _PUT_RESULTS,
        WRITE_RESPONSES,
    ),
)
def put_article(article_id: ArticleId, article: ArticleIn, engine: EngineDep) -> Response:
    """Add or update one article; it shows in lists at once, with no rebuild.

    Its text is embedded only if the title or body changed. Needs the write key. The answer
    names the catalogue generation that holds the change (``generation``, and the
    ``X-Newsrec-Generation`` header): a read with ``min_generation`` set to it sees the change
    on every worker.
    """
    report = upsert_articles(engine, [article.fields_with_id(article_id)])
    result = "added" if report.added else "updated" if report.updated else "unchanged"
    return write_response(
        {"id": article_id, "result": result, "index_version": report.index_version},
        engine,
        index_version=report.index_version,
        status_code=201 if report.added else 200,
    )


@router.delete(
    "/{article_id:article_id}",
    response_model=UnpublishOut,
    dependencies=[WriteAccess],
    responses=responses(_UNKNOWN, WRITE_RESPONSES),
)
def delete_article(article_id: ArticleId, engine: EngineDep) -> Response:
    """Unpublish an article: it leaves this worker's lists at once, and every worker's by
    the catalogue generation the answer names (as ``PUT`` does). Needs the write key."""
    version = unpublish_article(engine, article_id)
    return write_response(
        {"id": article_id, "unpublished": True, "index_version": version},
        engine,
        index_version=version,
    )


@router.post(
    ":batch",
    response_model=BatchOut,
    dependencies=[WriteAccess],
    responses=responses(WRITE_RESPONSES),
)
def post_batch(batch: BatchIn, engine: EngineDep) -> Response:
    """Add or update up to 500 articles in one call; all land or, if one is invalid, none.

    Needs the write key. The answer names the catalogue generation, as ``PUT`` does.
    """
    report = upsert_articles(engine, [a.fields_with_id(a.id) for a in batch.articles])
    return write_response(
        {
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "embedded": report.embedded,
            "index_version": report.index_version,
        },
        engine,
        index_version=report.index_version,
    )
