"""The engine: a loaded index and catalogue that answer for the two lists.

*More like this* is the top of the candidates by similarity alone; *Related* ranks the rest
by the blended score of :mod:`recommender.scoring`. Neither list ever holds the source.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from index import (
    ArticleRecord,
    Catalogue,
    IndexStore,
    IndexVersion,
    VectorIndex,
    make_index,
)
from recommender.columns import ArticleColumns
from recommender.embedding import Embedder, load_embedder
from recommender.popularity import log_popularity, popularity_reference
from recommender.recency import SECONDS_PER_DAY, recency_around
from recommender.requests import ListRequest
from recommender.scoring import ScoreParts, Weights, blend
from recommender.settings import Settings

__all__ = ["Engine", "ListItem", "RelatedLists", "UnknownArticle"]


class UnknownArticle(KeyError):
    """No published article has this id."""

    def __init__(self, article_id: str) -> None:
        super().__init__(article_id)
        self.article_id = article_id

    def __str__(self) -> str:
        return f"no published article with id {self.article_id!r}"


@dataclass(frozen=True, slots=True)
class ListItem:
    """One recommended article with its score and, on request, how the score was made."""

    article: ArticleRecord
    score: float
    similarity: float
    parts: dict[str, float] | None = None
    shared_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedLists:
    """Both lists for one source, and where they came from."""

    source: ArticleRecord | None
    more_like_this: list[ListItem]
    related: list[ListItem]
    index_version: str
    signals_missing: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Candidates:
    doc_ids: np.ndarray
    similarity: np.ndarray


class Engine:
    """Answers list requests from one home directory; safe to share between threads."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        """Open the catalogue and load the current index of ``settings.home``.

        Raises:
            index.IndexLoadError: the current index is damaged or built for another model.
        """
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.catalogue = Catalogue(settings.catalogue_path)
        self.store = IndexStore(settings.index_root)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._lock = threading.RLock()
        self._weights = Weights.from_settings(settings)
        self._index: VectorIndex | None = None
        self._version: IndexVersion | None = None
        self._seq = 0
        self.columns = ArticleColumns()
        self._pop_reference = 1.0
        self.load()

    # --- loading and freshness ----------------------------------------------------------
    def load(self) -> None:
        """(Re)load the current published index and catch up with the catalogue."""
        version = self.store.current()
        index: VectorIndex | None = None
        seq = 0
        if version is not None:
            index, version = self.store.load(version, expect_model=self.settings.model)
            seq = version.manifest.catalogue_seq
        columns = ArticleColumns()
        columns.put(self.catalogue.iter_records())
        with self._lock:
            self._index, self._version, self._seq = index, version, seq
            self.columns = columns
            self._pop_reference = popularity_reference(columns.popularity[columns.live])
        self.refresh()

    def swap(self, index: VectorIndex, version: IndexVersion) -> None:
        """Serve ``index`` from now on; requests in flight finish on the one they started on."""
        with self._lock:
            self._index, self._version, self._seq = index, version, version.manifest.catalogue_seq
        self.refresh()

    def refresh(self) -> int:
        """Apply catalogue changes made since the index was built; returns how many."""
        last = self.catalogue.last_seq()
        if last <= self._seq:
            return 0
        with self._lock:
            changes = self.catalogue.changes_since(self._seq)
            if not changes:
                return 0
            latest: dict[int, str] = {}
            for change in changes:
                latest[change.doc_id] = change.op
            upserted = [doc for doc, op in latest.items() if op == "upsert"]
            deleted = [doc for doc, op in latest.items() if op == "delete"]
            records = self.catalogue.get_by_doc_ids(upserted)
            live_ids = np.array([r.doc_id for r in records], dtype=np.int64)
            gone = np.array(
                deleted + sorted(set(upserted) - set(live_ids.tolist())), dtype=np.int64
            )
            if len(live_ids):
                ids, vectors = self.catalogue.vectors(live_ids.tolist())
                if self._index is None:
                    self._index = make_index("flat", vectors.shape[1])
                self._index.add(ids, vectors)
                self.columns.put(records)
            if len(gone) and self._index is not None:
                self._index.remove(gone)
            for doc in gone.tolist():
                self.columns.drop(int(doc))
            self._seq = changes[-1].seq
            self._pop_reference = popularity_reference(
                self.columns.popularity[self.columns.live]
            )
            return len(changes)

    @property
    def published_name(self) -> str | None:
        """The name of the published index version loaded, if any."""
        return self._version.name if self._version else None

    @property
    def index_version(self) -> str:
        """The published version served, plus the catalogue changes applied on top of it."""
        base = self._version.name if self._version else "empty"
        built = self._version.manifest.catalogue_seq if self._version else 0
        return base if self._seq == built else f"{base}+{self._seq - built}"

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (reading lists of stored ids needs none)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings)
            return self._embedder

    def __len__(self) -> int:
        return 0 if self._index is None else len(self._index)

    def close(self) -> None:
        """Release the catalogue."""
        self.catalogue.close()

    # --- lists --------------------------------------------------------------------------
    def related(self, article_id: str, request: ListRequest | None = None) -> RelatedLists:
        """Both lists for the published article ``article_id``.

        Raises:
            UnknownArticle: no published article has that id.
        """
        request = request or ListRequest()
        source = self.catalogue.get(article_id)
        if source is None:
            raise UnknownArticle(article_id)
        with self._lock:
            index = self._index
            if index is None or not index.contains(source.doc_id):
                raise UnknownArticle(article_id)
            query = index.reconstruct(np.array([source.doc_id], dtype=np.int64))[0]
            return self._lists(query, source, {source.doc_id}, request)

    def like_text(self, text: str, request: ListRequest | None = None) -> RelatedLists:
        """Both lists for a draft that is not in the catalogue (recency measured from now)."""
        request = request or ListRequest()
        query = self.embedder.encode([text])[0]
        with self._lock:
            return self._lists(query, None, set(), request)

    def like_articles(
        self, article_ids: Sequence[str], request: ListRequest | None = None
    ) -> RelatedLists:
        """Both lists for a set of articles ("more like these"), e.g. a reader's last reads.

        Raises:
            UnknownArticle: for the first id that is not published.
        """
        request = request or ListRequest()
        docs: list[int] = []
        for article_id in article_ids:
            doc = self.catalogue.doc_id_of(article_id)
            if doc is None or doc >= len(self.columns.live) or not self.columns.live[doc]:
                raise UnknownArticle(article_id)
            docs.append(doc)
        with self._lock:
            if self._index is None:
                raise UnknownArticle(article_ids[0])
            vectors = self._index.reconstruct(np.array(docs, dtype=np.int64))
            centroid = vectors.mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            return self._lists(centroid, None, set(docs), request)

    def _lists(
        self,
        query: np.ndarray,
        source: ArticleRecord | None,
        exclude_docs: set[int],
        request: ListRequest,
    ) -> RelatedLists:
        version = self.index_version
        missing: list[str] = []
        if self._index is None or len(self._index) == 0:
            return RelatedLists(source, [], [], version, ("index",))
        candidates = self._candidates(query, exclude_docs, request)
        columns = self.columns
        more_pos = np.argsort(-candidates.similarity, kind="stable")[: request.k_more]
        chosen = set(more_pos.tolist())
        rest = np.array(
            [i for i in range(len(candidates.doc_ids)) if i not in chosen], dtype=np.int64
        )
        source_ts = (
            source.published_at.timestamp()
            if source is not None and source.published_at is not None
            else (time.time() if source is None else float("nan"))
        )
        if not np.isfinite(source_ts):
            missing.append("recency")
        docs = candidates.doc_ids[rest]
        recency = recency_around(
            columns.published_ts[docs],
            source_ts,
            half_life_before_days=self.settings.recency_half_life_before_days,
            half_life_after_days=self.settings.recency_half_life_after_days,
        )
        counts = columns.popularity[docs]
        if not np.any(columns.popularity[columns.live] > 0):
            missing.append("popularity")
        popularity = log_popularity(counts, self._pop_reference)
        parts = blend(
            candidates.similarity[rest], recency, popularity, request.weights or self._weights
        )
        total = parts.total
        related_pos = np.argsort(-total, kind="stable")[: request.k_related]
        more = self._items(
            candidates.doc_ids[more_pos], candidates.similarity[more_pos],
            candidates.similarity[more_pos], None, more_pos, request.explain,
        )
        related = self._items(
            docs[related_pos], total[related_pos], candidates.similarity[rest][related_pos],
            parts, related_pos, request.explain,
        )
        return RelatedLists(source, more, related, version, tuple(missing))

    def _candidates(
        self, query: np.ndarray, exclude_docs: set[int], request: ListRequest
    ) -> _Candidates:
        assert self._index is not None  # checked by the caller
        wanted = request.k_more + request.k_related + len(request.exclude_ids) + len(exclude_docs)
        n = min(max(self.settings.candidates, 4 * wanted), len(self._index))
        ids, sims = self._index.search(query[None, :].astype(np.float32), n)
        ids, sims = ids[0], sims[0]
        keep = ids >= 0
        ids, sims = ids[keep], sims[keep]
        mask = self.columns.live[ids]
        for doc in exclude_docs:
            mask &= ids != doc
        for article_id in request.exclude_ids:
            doc = self.catalogue.doc_id_of(article_id)
            if doc is not None:
                mask &= ids != doc
        if request.sections:
            codes = [self.columns.code(s) for s in request.sections]
            mask &= np.isin(self.columns.section[ids], codes)
        if request.exclude_sections:
            codes = [self.columns.code(s) for s in request.exclude_sections]
            mask &= ~np.isin(self.columns.section[ids], codes)
        if request.language:
            mask &= self.columns.language[ids] == self.columns.code(request.language)
        if request.max_age_days is not None:
            oldest = time.time() - request.max_age_days * SECONDS_PER_DAY
            mask &= self.columns.published_ts[ids] >= oldest
        return _Candidates(ids[mask], sims[mask].astype(np.float32))

    def _items(
        self,
        docs: np.ndarray,
        scores: np.ndarray,
        similarity: np.ndarray,
        parts: ScoreParts | None,
        positions: np.ndarray,
        explain: bool,
    ) -> list[ListItem]:
        records = {r.doc_id: r for r in self.catalogue.get_by_doc_ids(docs.tolist())}
        items: list[ListItem] = []
        for rank, doc in enumerate(docs.tolist()):
            record = records.get(doc)
            if record is None:  # unpublished between search and fetch
                continue
            explanation = None
            if explain:
                pos = int(positions[rank])
                explanation = (
                    {
                        "similarity": float(parts.similarity[pos]),
                        "recency": float(parts.recency[pos]),
                        "popularity": float(parts.popularity[pos]),
                    }
                    if parts is not None
                    else {"similarity": float(similarity[rank])}
                )
            items.append(
                ListItem(record, float(scores[rank]), float(similarity[rank]), explanation)
            )
        return items

    # --- status -------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """Counts, model, index version and age, for ``newsrec status`` and ``/readyz``."""
        version = self._version
        created = version.manifest.created_at if version else None
        return {
            "home": str(self.settings.home),
            "articles": self.catalogue.count(),
            "indexed": len(self),
            "model": self.settings.model,
            "embedding_backend": self._embedder.backend if self._embedder else "not loaded",
            "index_version": self.index_version,
            "index_kind": version.manifest.kind if version else None,
            "index_created_at": created.isoformat() if created else None,
            "index_age_seconds": (datetime.now(UTC) - created).total_seconds()
            if created
            else None,
        }
