"""newsrec's recommender: articles, embedding, scoring, the engine and the CLI."""

from recommender.serving.engine import Engine, ListItem, RelatedLists, UnknownArticle
from recommender.serving.requests import ListRequest
from recommender.settings import Settings, load_settings

__all__ = [
    "Engine",
    "ListItem",
    "ListRequest",
    "RelatedLists",
    "Settings",
    "UnknownArticle",
    "load_settings",
]
