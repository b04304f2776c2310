"""Finding an article's id from words of its headline or from its URL.

Shared by ``newsrec find`` and ``GET /articles?q=``. A query is split into words; an article
is found when its title or URL holds every word (case-insensitive for ASCII letters). The
article whose id or URL is the whole query comes first, then those whose title holds the
words in their order, then the newest. A first version: a scan of the catalogue with SQL's
``LIKE``, bounded to ``MAX_FOUND`` results.
"""

from __future__ import annotations

from dataclasses import dataclass

from index import ArticleRecord, Catalogue

__all__ = ["MAX_FOUND", "MAX_QUERY_CHARS", "MAX_WORDS", "Found", "InvalidQuery", "find_articles"]

MAX_FOUND = 100
MAX_QUERY_CHARS = 500
MAX_WORDS = 20


class InvalidQuery(ValueError):
    """A query that finds nothing by construction (empty) or is too large; the message says
    which."""


@dataclass(frozen=True, slots=True)
class Found:
    """The articles found for a query, best first, and whether more matched than shown."""

    query: str
    articles: list[ArticleRecord]
    more: bool


def find_articles(catalogue: Catalogue, query: str, limit: int = 10) -> Found:
    """The published articles whose headline or URL holds every word of ``query``.

    Raises:
        InvalidQuery: an empty query, one over ``MAX_QUERY_CHARS`` characters or
            ``MAX_WORDS`` words, or a ``limit`` outside 1 to ``MAX_FOUND``.
    """
    text = query.strip()
    if not text:
        raise InvalidQuery("the query is empty: give words of a headline, or a URL or id")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"the query has {len(text)} characters, at most {MAX_QUERY_CHARS}")
    words = text.split()
    if len(words) > MAX_WORDS:
        raise InvalidQuery(f"the query has {len(words)} words, at most {MAX_WORDS}")
    if isinstance(limit, bool) or not 1 <= limit <= MAX_FOUND:
        raise InvalidQuery(f"limit must be 1 to {MAX_FOUND}, got {limit!r}")
    found = catalogue.find(words, exact=text, limit=limit + 1)
    return Found(text, found[:limit], len(found) > limit)
