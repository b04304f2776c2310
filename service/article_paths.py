"""The path converter of article ids in URLs: ``{article_id:article_id}`` takes any text.

Ids may hold ``/`` (ids made from URL paths), so the routes use a path converter; Starlette's
own (``:path``) stops at a line break, and a request whose id holds one would get a bare 404
from no route at all rather than the route's own answer (a 422 naming the id's problem).
Importing this module registers the converter; the routes' modules import it for that.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

__all__ = ["ARTICLE_ID"]

#: The converter's name, for route paths: ``f"/{{article_id:{ARTICLE_ID}}}"``.
ARTICLE_ID = "article_id"


class _AnyText(Convertor[str]):
    # "." with DOTALL: line breaks included. Never ending in "/related" or "/related.html"
    # (ingest refuses such ids), so that PUT or DELETE on an article's lists is a 405 from the
    # lists route, not an attempt on an article whose id ends in "/related".
    regex = r"(?s:.*)(?<!/related)(?<!/related\.html)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor(ARTICLE_ID, _AnyText())
