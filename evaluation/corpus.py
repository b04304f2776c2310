"""The evaluation's in-memory view of an evaluation home: ids, texts, times, counts, vectors.

Baselines read the very articles and vectors the engine serves from, so that every method in a
run ranks the same candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from index import Catalogue
from recommender.ingestion.articles import embedding_text
from recommender.settings import Settings

__all__ = ["Corpus", "load_corpus"]


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every live article of one home, one row each, ordered by catalogue doc id.

    Attributes:
        ids: article ids.
        doc_ids: catalogue doc ids (int64).
        titles: titles.
        bodies: leads/bodies.
        published_ts: publish times in epoch seconds (NaN when unknown).
        popularity: the popularity counts the engine sees.
        vectors: unit embedding vectors (float32, one row per article).
    """

    ids: list[str]
    doc_ids: np.ndarray
    titles: list[str]
    bodies: list[str]
    published_ts: np.ndarray
    popularity: np.ndarray
    vectors: np.ndarray
    row_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.row_of:
            self.row_of.update({article_id: i for i, article_id in enumerate(self.ids)})

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def texts(self) -> list[str]:
        """What the engine embeds for each article: title, then lead and body."""
        return [embedding_text(t, b) for t, b in zip(self.titles, self.bodies, strict=True)]

    def rows(self, article_ids: list[str]) -> np.ndarray:
        """Rows of ``article_ids`` (all must be in the corpus)."""
        return np.array([self.row_of[a] for a in article_ids], dtype=np.int64)


def load_corpus(settings: Settings) -> Corpus:
    """Read the catalogue of ``settings.home`` into a :class:`Corpus`."""
    with Catalogue(settings.catalogue_path, readonly=True) as catalogue:
        records = list(catalogue.iter_records())
        doc_ids, vectors = catalogue.vectors()
    by_doc = {r.doc_id: r for r in records}
    ordered = [by_doc[int(d)] for d in doc_ids.tolist()]
    return Corpus(
        ids=[r.id for r in ordered],
        doc_ids=doc_ids,
        titles=[r.title for r in ordered],
        bodies=[r.body for r in ordered],
        published_ts=np.array(
            [r.published_at.timestamp() if r.published_at else math.nan for r in ordered]
        ),
        popularity=np.array([r.popularity for r in ordered], dtype=np.float64),
        vectors=vectors,
    )
