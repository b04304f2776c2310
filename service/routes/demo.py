"""``GET /demo/articles/{id}``: an article page as a news site would render it.

The headline, date, body and the three boxes are rendered here, the boxes by
:mod:`service.fragments` as ``GET /articles/{id}/related.html`` renders them, so the page is
whole with JavaScript off. With ``?render=browser`` the boxes are left to the widget script
``static/related.js`` instead, which fills them from ``GET /articles/{id}/related`` as a
site's own pages would.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

import service.article_paths  # noqa: F401 - registers the {article_id:article_id} converter
from recommender.ingestion.articles import is_web_url
from recommender.serving.requests import MAX_K, ListRequest
from service.deps import ReadAccess, get_lists
from service.errors import AUTH_RESPONSES, BUSY_RESPONSES, responses
from service.fragments import boxes_answer
from service.tracking import assignment_of

__all__ = ["router"]

router = APIRouter(prefix="/demo", tags=["demo"])

_ASSETS = {"related.js": "text/javascript", "demo.css": "text/css"}
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'\u201c\u2018(A-Z0-9])")
_PARAGRAPH_CHARS = 420


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _paragraphs(body: str) -> list[str]:
    # Bodies are stored on one line; cutting them at sentence ends every few hundred
    # characters gives the page the rhythm of paragraphs.
    paragraphs: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(body):
        current = f"{current} {sentence}".strip()
        if len(current) >= _PARAGRAPH_CHARS:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


@router.get(
    "/articles/{article_id:article_id}",
    response_class=HTMLResponse,
    dependencies=[ReadAccess],
    responses=responses(
        {404: {"description": "No published article has this id (an HTML page)."}},
        AUTH_RESPONSES,
        BUSY_RESPONSES,
    ),
)
async def demo_article(
    article_id: Annotated[str, Path(min_length=1, max_length=200, examples=["sample-001"])],
    request: Request,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Items per box.")] = 5,
    render: Annotated[
        Literal["server", "browser"],
        Query(description="Who fills the boxes: this server, or the widget script."),
    ] = "server",
    reader: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="The reader's or session's id: assigns an experiment's variant.",
        ),
    ] = None,
    variant: Annotated[
        str | None, Query(min_length=1, max_length=32, description="Force a variant (QA).")
    ] = None,
) -> HTMLResponse:
    """An article page with its three boxes, for trying newsrec."""
    lists = await get_lists(request)
    engine = lists.engine
    # Catalogue reads go to a thread, as they did when this route was a plain ``def``.
    record = await run_in_threadpool(engine.catalogue.get, article_id)
    if record is None:
        page = _templates().get_template("not_found.html").render(article_id=article_id)
        return HTMLResponse(page, status_code=404)
    boxes = index_version = None
    if render == "server":
        options = ListRequest(k_more=k, k_related=k, k_popular=k)
        assignment = assignment_of(lists.tracking, request.headers, reader=reader, variant=variant)
        answer = await boxes_answer(lists, article_id, options, assignment)
        boxes = bytes(answer.body).decode("utf-8")
        index_version = answer.headers.get("x-index-version")
    count = await run_in_threadpool(engine.catalogue.count)
    published = record.published_at
    page = (
        _templates()
        .get_template("article.html")
        .render(
            article=record,
            # Ingest accepts only http(s) URLs; a catalogue written before that rule may hold
            # others, and a javascript: link must never reach the page.
            url=record.url if record.url and is_web_url(record.url) else None,
            language=record.language or "en",
            published=published.strftime("%-d %B %Y, %H:%M UTC") if published else None,
            published_iso=published.isoformat() if published else None,
            paragraphs=_paragraphs(record.body),
            home_label=f"{count} articles",
            k=k,
            boxes=Markup(boxes) if boxes is not None else None,
            index_version=index_version,
        )
    )
    return HTMLResponse(page)


@router.get("/assets/{name}", include_in_schema=False)
def demo_asset(name: str) -> Response:
    """The demo page's script and style sheet (only these two names exist)."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no demo asset named {name!r}")
    content = files("service").joinpath("static", name).read_bytes()
    return Response(content, media_type=media_type, headers={"Cache-Control": "max-age=300"})
