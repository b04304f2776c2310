"""``GET /articles/{id}/related.html``: an article's three boxes as an HTML fragment.

For a page that includes the boxes on the server (a template include, SSI or ESI) or inserts
them in the browser: the same lists as ``GET /articles/{id}/related``, with the same options
and cache, as accessible HTML (see :mod:`service.fragments`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

import service.article_paths  # noqa: F401 - registers the {article_id:article_id} converter
from service.deps import ReadAccess, get_lists
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.fragments import boxes_answer
from service.freshness import MIN_GENERATION_PARAMETER, CatchUp
from service.options import LIST_OPTION_PARAMETERS, list_options
from service.schemas import ProblemOut
from service.tracking import assignment_of

__all__ = ["router"]

router = APIRouter(prefix="/articles", tags=["articles"])

_RESULTS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'The boxes: a <div class="newsrec-boxes"> holding one <section> per '
        "non-empty list, each a heading and an ordered list of links.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    404: {"model": ProblemOut, "description": "No published article has this id."},
}


@router.get(
    "/{article_id:article_id}/related.html",
    response_class=Response,
    dependencies=[ReadAccess],
    responses=responses(_RESULTS, AUTH_RESPONSES, BUSY_RESPONSES),
    openapi_extra={"parameters": [*LIST_OPTION_PARAMETERS, MIN_GENERATION_PARAMETER]},
)
async def get_related_html(
    article_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=200,
            description="The article's id, as in GET /articles/{id}/related.",
            examples=["sample-001"],
        ),
    ],
    request: Request,
    heading: Annotated[
        int, Query(ge=2, le=6, description="The boxes' heading level: 2 gives <h2>.")
    ] = 2,
) -> Response:
    """More like this, Related and Popular for one article, as HTML to put in a page.

    Each item links to the article's own ``url`` (to its demo page if it has none). The same
    options as the JSON route apply (``k``, ``lists``, filters); an empty list's box is left
    out. Cached like the JSON answer, whose cache entry and ETag it shares (a matching
    ``If-None-Match`` gets a 304); ``min_generation`` waits for a write as there.
    """
    catch_up: CatchUp = request.app.state.catch_up
    await catch_up.settle(request)
    lists = await get_lists(request)
    query = await list_options(request)
    options = query.to_request(lists.weights)
    assignment = assignment_of(
        lists.tracking, request.headers, reader=query.reader, variant=query.variant
    )
    return await boxes_answer(lists, article_id, options, assignment, level=heading)
