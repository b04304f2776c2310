"""The three boxes as HTML: More like this, Related and Popular, rendered on the server.

``GET /articles/{id}/related.html`` and the demo page both render the boxes here, from the
same answer the JSON route sends (and through the same response cache), so a page shows them
with JavaScript off and a crawler reads them. Each box is a ``<section>`` named by its
heading, holding an ordered list of links; an empty box is left out rather than shown empty.
Items link to the article's own ``url``; an article with no web URL links to its demo page.
Catalogue text is escaped by Jinja, and a URL that is not ``http(s)`` never becomes a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import quote

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import Response

from recommender.ingestion.articles import is_web_url
from recommender.serving.requests import ListRequest
from service.responses import ListAnswers
from service.tracking import Assignment

__all__ = [
    "BOX_TITLES",
    "FALLBACK_PAGES",
    "HTMLBoxes",
    "boxes_answer",
    "item_href",
    "render_boxes",
]

#: Each list's box heading, in page order.
BOX_TITLES = {"more_like_this": "More like this", "related": "Related", "popular": "Popular"}
#: Where an item with no web URL links: its demo page under this path.
FALLBACK_PAGES = "/demo/articles/"
# Headers of the JSON answer that describe the boxes just as well. The ETag is made from the
# lists' content, which is all the boxes show, so it validates them too.
_CARRIED = ("x-index-version", "x-cache", "etag", "cache-control", "vary")


class HTMLBoxes(Response):
    """An answer holding the boxes' HTML."""

    media_type = "text/html; charset=utf-8"


@cache
def _template() -> Any:
    environment = Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("boxes.html")


def item_href(item: Mapping[str, Any], pages: str = FALLBACK_PAGES) -> str:
    """Where a list item links: its own ``url`` if that is a web URL, else ``pages`` + its id."""
    url = item.get("url")
    if isinstance(url, str) and is_web_url(url):
        return url
    return pages + quote(str(item["id"]), safe="/")


def _item(item: Mapping[str, Any], pages: str) -> dict[str, Any]:
    published = item.get("published_at")
    return {
        "id": item["id"],
        "title": item["title"],
        "href": item_href(item, pages),
        "section": item.get("section"),
        "published_at": published,
        "date": published[:10] if isinstance(published, str) else None,
        "snippet": item.get("snippet"),
        "position": item.get("position"),
    }


def render_boxes(view: Mapping[str, Any], *, level: int = 2, pages: str = FALLBACK_PAGES) -> Markup:
    """The boxes of a lists view (the JSON answer's shape, :func:`~recommender.serving.views.
    lists_view`) as HTML, headings at ``level`` (2 to 6).

    Raises:
        ValueError: ``level`` is not 2 to 6.
    """
    if not 2 <= level <= 6:
        raise ValueError(f"heading level must be 2 to 6, got {level}")
    source = view.get("article") or {}
    boxes = [
        {
            "name": name,
            "slug": name.replace("_", "-"),
            "title": title,
            "entries": [_item(i, pages) for i in view.get(name) or ()],
        }
        for name, title in BOX_TITLES.items()
    ]
    html = _template().render(
        article_id=source.get("id", ""),
        index_version=view.get("index_version", ""),
        recommendation_id=view.get("recommendation_id", ""),
        variant=view.get("variant", ""),
        boxes=[box for box in boxes if box["entries"]],
        level=level,
    )
    return Markup(html)


async def boxes_answer(
    lists: ListAnswers,
    article_id: str,
    options: ListRequest,
    assignment: Assignment,
    *,
    level: int = 2,
) -> HTMLBoxes:
    """The boxes of ``article_id`` as an HTML answer.

    The lists come from :meth:`ListAnswers.answer` under the JSON route's cache key, so the
    two routes share one cache entry; the JSON answer's version, cache and validator headers
    are carried over.

    Raises:
        UnknownArticle: no published article has this id (answered with 404).
        Busy: the list cannot be computed now (answered with 503).
    """
    answer = await lists.related(article_id, options, assignment)
    html = render_boxes(orjson.loads(answer.body), level=level)
    # The answer always has an ETag, so the middleware gives the boxes the configured
    # Cache-Control and their 304s, as it does the JSON.
    headers = {name: answer.headers[name] for name in _CARRIED if name in answer.headers}
    return HTMLBoxes(html, headers=headers)
