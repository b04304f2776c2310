"""Homes built by hand: a few articles with chosen unit vectors, published without a model.

Lists over such a home can be worked out on paper: with ``w_rec = w_pop = 0``,
no lexical share and ``mmr_lambda = 1`` a Related score is ``w_sim * cosine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index import ArticleRecord, Catalogue, IndexStore
from recommender.operations.indexing import publish_index
from recommender.settings import Settings
from tests.conftest import make_settings

#: Settings under which a Related score is the cosine alone; the popularity settings are fixed
#: too, so that hand computations hold whatever the defaults become.
PLAIN: dict[str, object] = {
    "w_sim": 1.0,
    "w_rec": 0.0,
    "w_pop": 0.0,
    "lexical_weight": 0.0,
    "related_lexical_weight": 0.0,
    "story_weight": 0.0,  # no same-story evidence either: cosines alone rank
    "neighbours": 0,  # plain cosines: no neighbourhood augmentation
    "mmr_lambda": 1.0,
    "popularity_normalisation": "log",
    "popularity_half_life_days": 7.0,
}


@dataclass(frozen=True)
class Doc:
    """One hand-made article."""

    id: str
    title: str
    vector: tuple[float, ...]
    section: str | None = "news"
    language: str | None = "en"
    published_at: str | None = "2026-09-10T12:00:00+00:00"
    popularity: float = 0.0
    body: str = ""


#: Five hand-made articles in 3 dimensions. Cosines to S: B .9, C .8, D .6, E .3;
#: cos(B, C) = .72, cos(B, E) = .27, cos(B, D) = .8871.
STORM_DOCS = [
    Doc("S", "Storm hits the coast", (1, 0, 0)),
    Doc("B", "Storm damage counted", (0.9, 0.43589, 0)),
    Doc("C", "Flood warnings issued", (0.8, 0, 0.6)),
    Doc("D", "Harbour closed to ferries", (0.6, 0.8, 0)),
    Doc("E", "Council budget vote", (0.3, 0, 0.95394)),
]


def unit(*values: float) -> np.ndarray:
    """``values`` scaled to length 1, as float32."""
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def build_home(home: Path, docs: list[Doc], **overrides: object) -> Settings:
    """Store ``docs`` with their vectors in a catalogue at ``home`` and publish an index."""
    settings = make_settings(home, **overrides)
    records = [
        ArticleRecord(
            id=d.id,
            title=d.title,
            body=d.body,
            url=None,
            section=d.section,
            tags=(),
            language=d.language,
            published_at=datetime.fromisoformat(d.published_at).astimezone(UTC)
            if d.published_at
            else None,
            popularity=d.popularity,
            content_hash=f"hash-{d.id}-{d.title}",
        )
        for d in docs
    ]
    with Catalogue(settings.catalogue_path) as catalogue:
        catalogue.upsert(records, {d.id: unit(*d.vector) for d in docs})
        publish_index(catalogue, IndexStore(settings.index_root), settings)
    return settings
