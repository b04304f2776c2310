"""The JSON shape of articles and lists, shared by ``newsrec related --json`` and the HTTP API."""

from __future__ import annotations

from typing import Any

from index import ArticleRecord
from recommender.ingestion.articles import snippet
from recommender.serving.engine import ListItem, RelatedLists

__all__ = ["article_view", "item_view", "lists_view"]


def article_view(record: ArticleRecord) -> dict[str, Any]:
    """An article as the API shows it."""
    return {
        "id": record.id,
        "title": record.title,
        "snippet": snippet(record.body),
        "url": record.url,
        "section": record.section,
        "tags": list(record.tags),
        "language": record.language,
        "published_at": record.published_at.isoformat().replace("+00:00", "Z")
        if record.published_at
        else None,
        "author": record.author,
        "kind": record.kind,
        "fields": dict(record.fields),
    }


def item_view(item: ListItem, *, explain: bool, position: int) -> dict[str, Any]:
    """A list item at ``position`` (1-based, what a click reports): the article, its score
    and, if asked, the score's parts."""
    view = article_view(item.article)
    view["position"] = position
    view["score"] = round(item.score, 6)
    if explain:
        view["explanation"] = {
            "parts": {k: round(v, 6) for k, v in (item.parts or {}).items()},
            "similarity": round(item.similarity, 6),
            "shared_terms": list(item.shared_terms),
            "pinned": item.pinned,
        }
    return view


def lists_view(lists: RelatedLists, *, explain: bool = False) -> dict[str, Any]:
    """The lists with their source, as ``GET /articles/{id}/related`` returns them."""
    return {
        "article": article_view(lists.source) if lists.source else None,
        "more_like_this": _items(lists.more_like_this, explain),
        "related": _items(lists.related, explain),
        "popular": _items(lists.popular, explain),
        "index_version": lists.index_version,
        "signals_missing": list(lists.signals_missing),
        "short": dict(lists.short),
    }


def _items(items: list[ListItem], explain: bool) -> list[dict[str, Any]]:
    return [item_view(item, explain=explain, position=n) for n, item in enumerate(items, 1)]
