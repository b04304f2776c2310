"""The serving state: what every list request reads, swapped in whole.

A request takes the engine's current :class:`ServingState` once and reads only from it. A
refresh builds the parts that change (reading counts, editorial rules, Related's gate, a new
index version) off to the side and installs a new state in one assignment, so a request never
sees half of a change. The three large structures (the vector index, the article columns and
the neighbourhoods) are updated in place by live upserts under the engine's lock instead:
copying them for each upsert would cost as much as the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from index import IndexVersion, VectorIndex
from recommender.ranking.gate import RelatedGate
from recommender.ranking.overrides import EditorialRules
from recommender.serving.columns import ArticleColumns
from recommender.signals.coreads import CoReads
from recommender.signals.lexical import LexicalBlock
from recommender.signals.neighbourhood import Neighbourhoods

__all__ = ["PopularPool", "Readership", "ServingState"]


@dataclass(frozen=True, slots=True)
class PopularPool:
    """The most popular articles, ready to score against any source: Related's candidates
    beyond the source's neighbours (they must still pass its gate)."""

    docs: np.ndarray
    vectors: np.ndarray  # augmented
    words: LexicalBlock | None


@dataclass(frozen=True, slots=True)
class Readership:
    """What reading events say, folded at one moment."""

    signal: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    newest: float = 0.0  # the newest event's time, from which counts decay
    any_reads: bool = False
    most_read: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool: PopularPool = field(
        default_factory=lambda: PopularPool(
            np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.float32), None
        )
    )


@dataclass(frozen=True, slots=True)
class ServingState:
    """Everything a list request reads.

    ``generation`` grows with every new state: caches of lists are valid for one generation.
    """

    index: VectorIndex | None
    version: IndexVersion | None
    seq: int  # the last catalogue change applied
    columns: ArticleColumns
    hoods: Neighbourhoods
    coreads: CoReads
    gate: RelatedGate  # made from the settings by the engine, never a default of its own
    rules: EditorialRules = field(default_factory=EditorialRules)
    readership: Readership = field(default_factory=Readership)
    generation: int = 0

    @property
    def index_version(self) -> str:
        """The published version served, plus the catalogue changes applied on top of it."""
        base = self.version.name if self.version else "empty"
        built = self.version.manifest.catalogue_seq if self.version else 0
        return base if self.seq == built else f"{base}+{self.seq - built}"

    def live_doc(self, article_id: str) -> int | None:
        """The doc id of a published article, or None."""
        doc = self.columns.doc_ids.get(article_id)
        live = self.columns.live
        return doc if doc is not None and doc < len(live) and live[doc] else None

    def live_docs(self, article_ids: Iterable[str]) -> set[int]:
        """The doc ids of those of ``article_ids`` that are published."""
        return {doc for a in article_ids if (doc := self.live_doc(a)) is not None}
