"""What the engine answers: list items, the lists of one source, and an unknown source."""

from __future__ import annotations

from dataclasses import dataclass, field

from index import ArticleRecord
from recommender.serving.requests import LIST_NAMES

__all__ = ["ListItem", "RelatedLists", "UnknownArticle"]


class UnknownArticle(KeyError):
    """No published article has this id."""

    def __init__(self, article_id: str) -> None:
        super().__init__(article_id)
        self.article_id = article_id

    def __str__(self) -> str:
        return f"no published article with id {self.article_id!r}"


@dataclass(frozen=True, slots=True)
class ListItem:
    """One recommended article with its score and, on request, how the score was made.

    ``article`` is the article's card (:func:`recommender.serving.columns.card_of`: the record
    with the body cut to its lead), or the whole record when the list was explained.
    """

    article: ArticleRecord
    score: float
    similarity: float
    parts: dict[str, float] | None = None
    shared_terms: tuple[str, ...] = ()
    pinned: bool = False  # placed by an editor's pin rather than by its score


@dataclass(frozen=True, slots=True)
class RelatedLists:
    """The three lists for one source, and where they came from.

    ``short`` says, for each list shorter than asked, why (e.g. too few candidates passed
    Related's relevance gate); lists are never padded with unrelated items. ``teams`` names,
    for an interleaved answer, the variant behind each position.
    """

    source: ArticleRecord | None
    more_like_this: list[ListItem]
    related: list[ListItem]
    index_version: str
    signals_missing: tuple[str, ...] = field(default_factory=tuple)
    popular: list[ListItem] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)
    #: For lists interleaved from two variants: list name -> the variant each position came
    #: from (recommender/experiments/interleaving.py); empty otherwise.
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def shown(self) -> dict[str, tuple[str, ...]]:
        """The article ids of each list that holds any, in served order: what a
        recommendation id records of these lists."""
        found = {name: tuple(i.article.id for i in getattr(self, name)) for name in LIST_NAMES}
        return {name: ids for name, ids in found.items() if ids}
