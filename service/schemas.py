"""Input and output models of the HTTP API (separate, with limits on the inputs)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ArticleOut", "Explanation", "ItemOut", "RelatedOut"]


class ArticleOut(BaseModel):
    """An article as the API shows it."""

    id: str = Field(examples=["sample-001"])
    title: str
    snippet: str = Field(description="At most 160 characters of the lead.")
    url: str | None
    section: str | None
    tags: list[str] = []
    language: str | None = None
    published_at: str | None = Field(description="ISO 8601, UTC.")


class Explanation(BaseModel):
    """How an item's score was made; ``parts`` add up to the score."""

    parts: dict[str, float]
    similarity: float
    shared_terms: list[str]


class ItemOut(ArticleOut):
    """A list item: an article and its score."""

    score: float
    explanation: Explanation | None = None


class RelatedOut(BaseModel):
    """Both lists for one source article."""

    article: ArticleOut | None
    more_like_this: list[ItemOut]
    related: list[ItemOut]
    index_version: str = Field(description="The index version that answered.")
    signals_missing: list[str] = Field(
        description="Signals that could not be used (e.g. 'popularity' with no counts)."
    )
