"""The engine: a loaded index and catalogue that answer for the two lists.

*More like this* is the top of the candidates by similarity alone; *Related* ranks the rest
by the blended score of :mod:`recommender.ranking.scoring`, diversified. Candidates of a stored
article come from its row of the neighbour table (:mod:`recommender.signals.neighbourhood`) plus
an exact search
of the articles changed since the table was computed, so a list needs no index search; drafts,
readers' centroids and articles changed since are searched in the index. Neither list ever holds the
source or a copy of it, each story appears once across both, and editorial pins and blocks
apply to every list the engine makes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from index import (
    ArticleRecord,
    Catalogue,
    IndexLoadError,
    IndexStore,
    IndexVersion,
    VectorIndex,
    make_index,
)
from index.events import Event, EventStore
from index.overrides import OverrideStore
from recommender.embedding.embedder import Embedder, load_embedder, planned_backend
from recommender.operations.indexing import table_shape
from recommender.ranking.diversity import mmr
from recommender.ranking.gate import RelatedGate, calibrate_floor
from recommender.ranking.overrides import EditorialRules, place_pins
from recommender.ranking.popular import most_read
from recommender.ranking.scoring import Weights, list_weights, score
from recommender.serving.columns import NO_KEY, ArticleColumns
from recommender.serving.requests import ListRequest
from recommender.settings import Settings
from recommender.signals.coreads import CoReads
from recommender.signals.lexical import LexicalBlock, TermVector
from recommender.signals.neighbourhood import Neighbourhoods, NeighbourTable, NeighbourTableError
from recommender.signals.popularity import DecayedCounts, popularity_signal
from recommender.signals.recency import SECONDS_PER_DAY, recency_around, recency_from_now
from recommender.signals.section import section_match
from recommender.signals.stories import NO_TITLE_KEY, story_labels
from recommender.signals.story import story_evidence
from recommender.signals.terms import Terms, TermStatistics, shared_terms, terms_of

__all__ = ["Engine", "ListItem", "RelatedLists", "UnknownArticle"]

_TERM_SAMPLE = 5_000  # articles whose words give the document frequencies of explanations
_MOST_READ = 1_000  # most read articles kept in order for Popular: enough past any filter
_RECALIBRATE = 0.2  # change in published articles at which Related's floor is measured again


def _outside(docs: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``~np.isin(docs, ids)`` for the small arrays of a list request, at a fraction of the
    cost (isin sets up a general algorithm for every call)."""
    if len(ids) <= 8:
        mask = np.ones(len(docs), dtype=bool)
        for doc in ids.tolist():
            mask &= docs != doc
        return mask
    ordered = np.sort(ids)
    at = np.minimum(np.searchsorted(ordered, docs), len(ordered) - 1)
    return np.asarray(ordered[at] != docs)


def _gathered(values: np.ndarray, docs: np.ndarray, fill: float) -> np.ndarray:
    """``values[doc]`` for each of ``docs``, ``fill`` for docs past the end of ``values`` (added
    since it was computed)."""
    out = np.full(len(docs), fill, dtype=values.dtype)
    known = docs < len(values)
    out[known] = values[docs[known]]
    return out


def _weights_of(docs: np.ndarray, weights: dict[int, float]) -> np.ndarray:
    """``weights[doc]`` for each of ``docs`` (0 for those without one), as float32."""
    out = np.zeros(len(docs), dtype=np.float32)
    if weights:
        keys = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float32, count=len(weights))
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
        at = np.minimum(np.searchsorted(keys, docs), len(keys) - 1)
        hit = keys[at] == docs
        out[hit] = values[at[hit]]
    return out


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

    ``article`` is the article's card (:func:`recommender.serving.columns.card_of`: the record with
    the body cut to its lead), or the whole record when the list was explained.
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
    Related's relevance gate); lists are never padded with unrelated items.
    """

    source: ArticleRecord | None
    more_like_this: list[ListItem]
    related: list[ListItem]
    index_version: str
    signals_missing: tuple[str, ...] = field(default_factory=tuple)
    popular: list[ListItem] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Candidates:
    doc_ids: np.ndarray
    cosine: np.ndarray  # float32, of augmented vectors
    lexical: np.ndarray  # float32
    query: np.ndarray  # the query's augmented vector

    def plus(self, docs: np.ndarray, cosine: np.ndarray, lexical: np.ndarray) -> _Candidates:
        """These candidates followed by ``docs`` with their similarity parts."""
        return _Candidates(
            np.concatenate([self.doc_ids, docs]),
            np.concatenate([self.cosine, cosine]).astype(np.float32),
            np.concatenate([self.lexical, lexical]).astype(np.float32),
            self.query,
        )


@dataclass(frozen=True, slots=True)
class _Picked:
    more: list[int]  # rows of the scored arrays, in list order
    related: list[int]
    penalty: dict[int, float]  # the diversity penalty of each Related row


@dataclass(frozen=True, slots=True)
class _Popular:
    """The popular articles of one generation, ready to score against any source."""

    generation: int
    docs: np.ndarray
    vectors: np.ndarray  # augmented
    words: LexicalBlock


@dataclass(frozen=True, slots=True)
class _Entry:
    doc: int
    similarity: float
    parts: dict[str, float]
    pinned: bool = False


class Engine:
    """Answers list requests from one home directory; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open the catalogue and load the current index of ``settings.home``.

        ``clock`` gives the time in epoch seconds: when overrides expire, what ``max_age_days``
        and live-page recency count from.

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
        self._shape = table_shape(settings)
        self._hoods = Neighbourhoods(None, self._shape, 1)
        self._popular: _Popular | None = None
        self._seq = 0
        self._generation = 0
        self.columns = ArticleColumns()
        self._clock = clock
        self.events = EventStore(settings.catalogue_path)
        self.overrides = OverrideStore(settings.catalogue_path)
        self._rules = EditorialRules()
        self._rules_rev = -1
        self._next_expiry = math.inf
        self._counts = DecayedCounts(
            half_life_days=settings.popularity_half_life_days, click_weight=settings.click_weight
        )
        self._coreads = CoReads(
            window=settings.coread_window,
            shrink=settings.coread_shrink,
            partners=settings.coread_partners,
            readers=settings.coread_readers,
        )
        self._signals_lock = threading.Lock()
        self._popularity = np.zeros(0, dtype=np.float32)
        self._popularity_counts = np.zeros(0, dtype=np.float64)
        self._popularity_newest = 0.0
        self._popular_docs = np.zeros(0, dtype=np.int64)
        self._most_read = np.zeros(0, dtype=np.int64)  # Popular's order, most read first
        self._gate = RelatedGate(-math.inf, settings.related_depth, settings.coread_min_readers)
        self._gate_size = -1  # published articles when the gate's floor was calibrated
        self._popularity_columns: ArticleColumns | None = None
        self._popularity_folded_at = -math.inf
        self._has_popularity = False
        self._terms: TermStatistics | None = None
        self._terms_lock = threading.Lock()
        self.load()

    # --- loading and freshness ----------------------------------------------------------
    def load(self) -> None:
        """(Re)load the current published index and catch up with the catalogue.

        The new state is built off to the side (the index read and verified, the catalogue
        changes made since it was built replayed onto it) and installed in one step under the
        lock, so every request runs wholly on the old state or wholly on the new one.
        """
        version = self.store.current()
        index: VectorIndex | None = None
        if version is not None:
            index, version = self.store.load(version, expect_model=self.settings.model)
        self._install(index, version)

    def swap(self, index: VectorIndex, version: IndexVersion) -> None:
        """Serve ``index`` from now on; requests in flight finish on the one they started on."""
        self._install(index, version)

    def _install(self, index: VectorIndex | None, version: IndexVersion | None) -> None:
        columns = ArticleColumns()
        columns.put(self.catalogue.iter_records())
        built = version.manifest.catalogue_seq if version is not None else 0
        table = self._table_of(version)
        hoods = Neighbourhoods(table, self._shape, index.dim if index is not None else 1)
        index, seq, _ = self._apply_changes(index, columns, built, hoods)
        if index is not None and table is not None and table.seq < built:
            # Changes between the table and the index it was published with: fresh too.
            changed = {c.doc_id for c in self.catalogue.changes_since(table.seq) if c.seq <= built}
            hoods.changed(
                np.array(sorted(changed), dtype=np.int64), index, columns.lexical, columns.live
            )
        with self._lock:
            self._index, self._version, self._seq = index, version, seq
            self.columns, self._hoods = columns, hoods
            self._gate_size = -1
            self._generation += 1
        self.refresh()

    def _table_of(self, version: IndexVersion | None) -> NeighbourTable | None:
        if version is None:
            return None
        try:
            return NeighbourTable.from_arrays(self.store.extras(version))
        except NeighbourTableError as exc:
            raise IndexLoadError(f"{version.path}: {exc}; run `newsrec reindex`") from exc

    def refresh(self) -> int:
        """Apply catalogue changes made since the index was built; returns how many.

        Also picks up editorial overrides added or removed since, and folds new events into
        popularity (at most every ``popularity_refresh_seconds``, at once after catalogue
        changes).
        """
        applied = self._refresh_catalogue()
        self._refresh_overrides()
        self._refresh_popularity(force=applied > 0)
        return applied

    def _refresh_catalogue(self) -> int:
        last = self.catalogue.last_seq()
        if last <= self._seq:
            self._calibrate_gate()
            return 0
        with self._lock:
            self._index, self._seq, applied = self._apply_changes(
                self._index, self.columns, self._seq, self._hoods
            )
            if applied:
                self._generation += 1
        self._calibrate_gate()
        return applied

    def _calibrate_gate(self) -> None:
        """Measure Related's similarity floor on this catalogue (recommender/ranking/gate.py):
        at load, and again when the published articles grew or shrank by a fifth."""
        size = int(self.columns.live.sum())
        known = self._gate_size
        if known >= 0 and abs(size - known) <= _RECALIBRATE * max(known, 1):
            return
        with self._lock:
            floor = -math.inf
            if self._index is not None and size:
                floor = calibrate_floor(
                    np.flatnonzero(self.columns.live).astype(np.int64),
                    self._similarities,
                    self.settings.related_floor_quantile,
                )
            self._gate = RelatedGate(
                floor, self.settings.related_depth, self.settings.coread_min_readers
            )
            self._gate_size = size
            self._generation += 1

    def _similarities(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The cosine of the plain embeddings of each of ``targets`` to each of ``sources``:
        what Related's content gate compares with its floor."""
        assert self._index is not None  # checked by the caller
        return np.asarray(
            self._index.reconstruct(sources) @ self._index.reconstruct(targets).T,
            dtype=np.float32,
        )

    def _refresh_overrides(self) -> bool:
        rev = self.overrides.rev()
        if rev == self._rules_rev:
            return False
        rules = EditorialRules.of(self.overrides.in_force())
        with self._lock:
            self._rules, self._rules_rev = rules, rev
            self._next_expiry = self._expiry_after(rules, self._clock())
            self._generation += 1
        return True

    @staticmethod
    def _expiry_after(rules: EditorialRules, now: float) -> float:
        expiry = rules.next_expiry(datetime.fromtimestamp(now, UTC))
        return expiry.timestamp() if expiry is not None else math.inf

    def _refresh_popularity(self, *, force: bool = False) -> bool:
        """Fold new events into the decayed counts and recompute every article's popularity."""
        with self._signals_lock:
            now = self._clock()
            columns = self.columns
            new_events = self.events.last_seq() > self._counts.last_seq
            due = now - self._popularity_folded_at >= self.settings.popularity_refresh_seconds
            if not (force or columns is not self._popularity_columns or (new_events and due)):
                return False
            for batch in self.events.since(self._counts.last_seq):
                self._counts.add(batch)
                with self._lock:  # lists read the co-reads under this lock
                    self._coreads.add(batch)
            size = len(columns.live)
            counts = columns.popularity[:size] + self._counts.per_doc(columns.article_ids, size)
            counts = np.where(columns.live[:size], counts, 0.0)
            newest = self._counts.newest_ts if self._counts.newest_ts is not None else now
            signal = popularity_signal(
                counts,
                columns.published_ts[:size],
                newest,
                method=self._popularity_method(),
                half_life_days=self.settings.popularity_half_life_days,
            )
            ranked = np.where(columns.live[:size], signal, 0.0)
            popular = np.argsort(-ranked, kind="stable")[: self.settings.popular_candidates]
            read = np.flatnonzero(counts > 0)
            most_read = read[np.argsort(-counts[read], kind="stable")][:_MOST_READ]
            with self._lock:
                self._popularity, self._has_popularity = signal, bool(np.any(counts > 0))
                self._popularity_counts, self._popularity_newest = counts, newest
                self._popular_docs = popular[ranked[popular] > 0].astype(np.int64)
                self._most_read = most_read.astype(np.int64)
                self._popularity_columns, self._popularity_folded_at = columns, now
                self._generation += 1
            return True

    def record_events(self, events: Sequence[Event]) -> int:
        """Store reading events (views, clicks); returns how many were new.

        They count in popularity from the next refresh that folds events in (at most
        ``popularity_refresh_seconds`` later).

        Raises:
            index.events.EventError: an event with an empty id, unknown kind or naive time.
        """
        return self.events.add(events)

    def _apply_changes(
        self,
        index: VectorIndex | None,
        columns: ArticleColumns,
        since: int,
        hoods: Neighbourhoods,
    ) -> tuple[VectorIndex | None, int, int]:
        """Replay catalogue changes after ``since`` onto ``index``, ``columns`` and ``hoods``.

        Returns the index (created if there was none), the last change applied and how many
        changes there were. Replaying a change twice is harmless, so racing writers are safe.
        """
        net = self.catalogue.net_changes(since)
        if not net.count:
            return index, since, 0
        records = self.catalogue.get_by_doc_ids(net.upserted)
        live_ids = np.array([r.doc_id for r in records], dtype=np.int64)
        gone = np.array(
            net.deleted + sorted(set(net.upserted) - set(live_ids.tolist())), dtype=np.int64
        )
        if len(live_ids):
            ids, vectors = self.catalogue.vectors(live_ids.tolist())
            if index is None:
                index = make_index("flat", vectors.shape[1])
            index.add(ids, vectors)
            columns.put(records)
        if len(gone) and index is not None:
            index.remove(gone)
        for doc in gone.tolist():
            columns.drop(int(doc))
        if index is not None:
            hoods.changed(
                np.array(net.touched(), dtype=np.int64), index, columns.lexical, columns.live
            )
        return index, net.last_seq, net.count

    @property
    def generation(self) -> int:
        """A counter that grows whenever a list could change (catalogue changes applied, an
        index swapped in, overrides added, removed or expired, popularity recomputed); caches
        of lists are valid only for the generation they were made in.
        """
        if self._clock() >= self._next_expiry:
            with self._lock:
                now = self._clock()
                if now >= self._next_expiry:
                    self._next_expiry = self._expiry_after(self._rules, now)
                    self._generation += 1
        return self._generation

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
        """Release the catalogue, events and overrides."""
        self.events.close()
        self.overrides.close()
        self.catalogue.close()

    # --- lists --------------------------------------------------------------------------
    def lists_for(self, article_id: str, request: ListRequest | None = None) -> RelatedLists:
        """Both lists for the published article ``article_id``.

        Raises:
            UnknownArticle: no published article has that id.
        """
        request = request or ListRequest()
        with self._lock:
            index = self._index
            doc = self._live_doc(article_id)
            if index is None or doc is None or not index.contains(doc):
                raise UnknownArticle(article_id)
            # Its card says all a list needs; explanations read the whole text.
            source = self.catalogue.get(article_id) if request.explain else self.columns.cards[doc]
            if source is None:
                raise UnknownArticle(article_id)
            return self._lists(doc, source, {doc}, request)

    def lists_for_many(
        self, sources: Sequence[ArticleRecord], request: ListRequest | None = None
    ) -> list[RelatedLists]:
        """Both lists for each of ``sources`` (catalogue records), exactly as :meth:`lists_for`
        makes them (``newsrec precompute``). Sources that are not in the index are left out.
        """
        request = request or ListRequest()
        with self._lock:
            index = self._index
            if index is None or len(index) == 0:
                return []
            return [
                self._lists(s.doc_id, s, {s.doc_id}, request)
                for s in sources
                if index.contains(s.doc_id)
            ]

    def lists_for_text(self, text: str, request: ListRequest | None = None) -> RelatedLists:
        """Both lists for a draft that is not in the catalogue (recency measured from now)."""
        request = request or ListRequest()
        query = self.embedder.encode([text])[0]
        with self._lock:
            return self._lists(query, None, set(), request, source_text=(text, ""))

    def lists_for_articles(
        self, article_ids: Sequence[str], request: ListRequest | None = None
    ) -> RelatedLists:
        """Both lists for a set of articles ("more like these"), e.g. a reader's last reads.

        Raises:
            UnknownArticle: for the first id that is not published.
        """
        request = request or ListRequest()
        docs: list[int] = []
        for article_id in article_ids:
            doc = self._live_doc(article_id)
            if doc is None:
                raise UnknownArticle(article_id)
            docs.append(doc)
        with self._lock:
            if self._index is None:
                raise UnknownArticle(article_ids[0])
            vectors = self._index.reconstruct(np.array(docs, dtype=np.int64))
            centroid = vectors.mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            return self._lists(centroid, None, set(docs), request)

    def score_candidates(
        self,
        article_ids: Sequence[str],
        candidate_ids: Sequence[str],
        request: ListRequest | None = None,
    ) -> list[ListItem]:
        """Related's served scoring of the given candidates for a set of read articles (e.g. a
        reader's history, as in MIND impressions), with the same signals, weights and gate as
        a Related list for those articles.

        Items come in served order: the candidates that pass Related's gate by score, then
        the others (which a Related list would not show) by score; ties keep the order given.
        Unpublished sources and candidates are left out; with no published source, every
        candidate scores on its other signals alone.
        """
        request = request or ListRequest()
        with self._lock:
            index = self._index
            if index is None or len(index) == 0:
                return []
            sources = [d for a in article_ids if (d := self._live_doc(a)) is not None]
            found = [(a, d) for a in candidate_ids if (d := self._live_doc(a)) is not None]
            docs = np.array([d for _, d in found], dtype=np.int64)
            if not len(docs):
                return []
            now = self._clock()
            source_docs = set(sources)
            words = self._words(source_docs, None)
            if sources:
                plain = index.reconstruct(np.array(sources, dtype=np.int64)).mean(axis=0)
                plain /= max(float(np.linalg.norm(plain)), 1e-12)
                query = self._hoods.query_augmented(plain, None, index, self.columns.lexical, words)
                cosine = self._hoods.augmented(docs, index, self.columns.live) @ query
                content = index.reconstruct(docs) @ plain
            else:
                cosine = content = np.zeros(len(docs), dtype=np.float32)
            lexical = self.columns.lexical.similarity(words, docs)
            coread = self._coread_of(source_docs)
            source = self.columns.cards.get(sources[0]) if len(sources) == 1 else None
            signals = self._signals(docs, cosine, lexical, source, coread, now, [])
            weights = request.weights or self._weights
            scores = score(signals, weights, lexical_share=self.settings.related_lexical_weight)
            gate = self._gate.passes(
                np.asarray(content, dtype=np.float32),
                self._shared_readers(source_docs, docs, coread),
                request.k_related,
            )
            order = np.lexsort((np.arange(len(docs)), -scores.total, ~gate))
            entries = [
                _Entry(int(docs[row]), float(cosine[row]), scores.of(int(row)))
                for row in order.tolist()
            ]
            return self._items(entries, None, request.explain)

    def _lists(
        self,
        query: np.ndarray | int,
        source: ArticleRecord | None,
        exclude_docs: set[int],
        request: ListRequest,
        *,
        source_text: tuple[str, str] | None = None,
    ) -> RelatedLists:
        """The three lists for ``query``: a stored article's doc id, or a vector (draft,
        centroid)."""
        version = self.index_version
        index = self._index
        if index is None or len(index) == 0:
            return RelatedLists(source, [], [], version, ("index",))
        now = self._clock()
        when = datetime.fromtimestamp(now, UTC)
        rules_for = source.id if source is not None else None
        blocked = self._live_docs(self._rules.blocked(rules_for, when))
        pins: list[tuple[int, int]] = []  # (doc, 1-based position), strongest first
        if request.k_related:
            for pin in self._rules.pins(rules_for, when):
                doc = self._live_doc(pin.target_id)
                if doc is not None and doc not in blocked | exclude_docs:
                    pins.append((doc, pin.position or 1))
        pin_docs = np.array(list(dict.fromkeys(doc for doc, _ in pins)), dtype=np.int64)
        if pins:
            pin_docs = pin_docs[self._admissible(pin_docs, request, now)]
        excluded = exclude_docs | blocked | set(pin_docs.tolist())
        words = self._words(exclude_docs, source_text)
        coread = self._coread_of(exclude_docs)
        missing: list[str] = []
        short: dict[str, str] = {}
        more: list[_Entry] = []
        related: list[_Entry] = []
        if request.k_more or request.k_related:
            candidates = self._candidates(query, words, excluded, request, now, coread)
            # Pinned articles first, then the candidates: one row each in every array below.
            docs, cosine, lexical = candidates.doc_ids, candidates.cosine, candidates.lexical
            if len(pin_docs):  # most lists have none: spare them the array work
                docs = np.concatenate([pin_docs, docs])
                pin_aug = self._hoods.augmented(pin_docs, index, self.columns.live)
                cosine = np.concatenate([pin_aug @ candidates.query, cosine]).astype(np.float32)
                pin_lexical = self.columns.lexical.similarity(words, pin_docs)
                lexical = np.concatenate([pin_lexical, lexical]).astype(np.float32)
            if len(docs) == 0:
                missing.append("candidates")  # nothing else published (or all filtered out)
            # The gate compares plain embeddings: the augmented ones are pulled towards their
            # neighbourhoods, which makes a whole small catalogue look alike.
            if isinstance(query, int):
                plain = index.reconstruct(np.array([query], dtype=np.int64))[0]
            else:
                plain = np.asarray(query, dtype=np.float32)
            content = index.reconstruct(docs) @ plain if len(docs) else np.zeros(0, np.float32)
            more, related = self._ranked(
                docs,
                cosine,
                lexical,
                content,
                source,
                exclude_docs,
                coread,
                pin_docs,
                pins,
                request,
                now,
                missing,
                short,
            )
        popular = self._popular_list(source, exclude_docs, excluded, more + related, request, now)
        if len(popular) < request.k_popular:
            short["popular"] = (
                f"{len(popular)} articles read recently pass the filters"
                if self._has_popularity
                else "no reading events: nothing is popular yet"
            )
        terms = self._source_terms(source, source_text, exclude_docs) if request.explain else None
        return RelatedLists(
            source,
            self._items(more, terms, request.explain),
            self._items(related, terms, request.explain),
            version,
            tuple(missing),
            self._items(popular, terms, request.explain),
            short,
        )

    def _words(self, exclude_docs: set[int], source_text: tuple[str, str] | None) -> TermVector:
        if source_text is not None:
            return self.columns.lexical.vector_of_text(*source_text)
        return self.columns.lexical.vector_of(np.array(sorted(exclude_docs), dtype=np.int64))

    def _signals(
        self,
        docs: np.ndarray,
        cosine: np.ndarray,
        lexical: np.ndarray,
        source: ArticleRecord | None,
        coread: dict[int, float],
        now: float,
        missing: list[str],
    ) -> dict[str, np.ndarray]:
        """Every signal of the formula for ``docs`` (recommender/ranking/scoring.py)."""
        source_ts = now  # a draft or a reader's reads: what is around now
        if source is not None:
            source_ts = source.published_at.timestamp() if source.published_at else math.nan
        if not self._has_popularity:
            missing.append("popularity")
        return {
            "cosine": cosine,
            "lexical": lexical,
            "recency": self._recency(docs, source, now, missing),
            "popularity": self._popularity_of(docs),
            "coread": _weights_of(docs, coread),
            "section": section_match(
                source.section if source else None,
                source.tags if source else (),
                docs,
                self.columns.cards,
            ),
            "story": story_evidence(
                lexical,
                self.columns.published_ts[docs],
                source_ts,
                half_life_days=self.settings.story_half_life_days,
            ),
        }

    def _ranked(
        self,
        docs: np.ndarray,
        cosine: np.ndarray,
        lexical: np.ndarray,
        content: np.ndarray,
        source: ArticleRecord | None,
        exclude_docs: set[int],
        coread: dict[int, float],
        pin_docs: np.ndarray,
        pins: list[tuple[int, int]],
        request: ListRequest,
        now: float,
        missing: list[str],
        short: dict[str, str],
    ) -> tuple[list[_Entry], list[_Entry]]:
        """More like this and Related among the candidates ``docs`` (pinned rows first)."""
        settings = self.settings
        signals = self._signals(docs, cosine, lexical, source, coread, now, missing)
        weights = request.weights or self._weights
        more_scores = score(
            signals,
            list_weights("more_like_this", weights, story_weight=settings.story_weight),
            lexical_share=settings.lexical_weight,
        )
        related_scores = score(signals, weights, lexical_share=settings.related_lexical_weight)
        n_pins = len(pin_docs)
        gate = self._gate.passes(
            content.astype(np.float32),
            self._shared_readers(exclude_docs, docs, coread),
            request.k_related,
        )
        gate[:n_pins] = True  # an editor's pin needs no evidence
        pin_rows = {int(doc): row for row, doc in enumerate(pin_docs.tolist())}
        pinned = [(pin_rows[doc], position) for doc, position in pins if doc in pin_rows]
        pool_size = max(settings.list_pool, 2 * (request.k_more + request.k_related))
        # Copies of the source, and of articles the caller already shows, are not shown.
        anchors = exclude_docs | self._live_docs(request.exclude_ids)
        while True:
            picked = self._pick(
                docs,
                more_scores.total,
                related_scores.total,
                gate,
                n_pins,
                pinned,
                anchors,
                pool_size,
                request,
            )
            short_lists = (
                len(picked.more) < request.k_more or len(picked.related) < request.k_related
            )
            if not short_lists or pool_size >= len(docs):
                break
            pool_size *= 4  # many copies among the best: look further down the candidates
        if len(picked.related) < request.k_related:
            passed = int(gate[n_pins:].sum())
            short["related"] = (
                f"{passed} of {len(docs) - n_pins} candidates are related to the source "
                f"(among its {max(self._gate.depth, 2 * request.k_related)} most similar and "
                f"above the catalogue's similarity floor, or read by "
                f"{self._gate.min_readers}+ of its readers), after copies and stories"
            )
        if len(picked.more) < request.k_more:
            short["more_like_this"] = f"{len(docs) - n_pins} candidates pass the filters"
        more = [
            _Entry(int(docs[row]), float(cosine[row]), more_scores.of(row)) for row in picked.more
        ]
        related = [
            _Entry(
                int(docs[row]),
                float(cosine[row]),
                {**related_scores.of(row), "diversity": 0.0 - picked.penalty.get(row, 0.0)},
                pinned=row < n_pins,
            )
            for row in picked.related
        ]
        return more, related

    def _shared_readers(
        self, sources: set[int], docs: np.ndarray, coread: dict[int, float]
    ) -> np.ndarray:
        """How many readers read a source and each of ``docs`` (the most over the sources);
        only articles co-read at all are looked up."""
        out = np.zeros(len(docs), dtype=np.int64)
        if not coread:
            return out
        source_ids = [a for s in sources if (a := self.columns.article_ids.get(s)) is not None]
        ids = self.columns.article_ids
        for row in np.flatnonzero(np.isin(docs, np.fromiter(coread, dtype=np.int64))).tolist():
            other = ids.get(int(docs[row]))
            if other is not None:
                out[row] = max(self._coreads.pairs(s, other) for s in source_ids)
        return out

    def _popular_list(
        self,
        source: ArticleRecord | None,
        exclude_docs: set[int],
        excluded: set[int],
        shown: list[_Entry],
        request: ListRequest,
        now: float,
    ) -> list[_Entry]:
        """Popular: the most read right now (recommender/ranking/popular.py)."""
        if not request.k_popular or not len(self._most_read):
            return []
        columns = self.columns
        copies = self._copies_of(exclude_docs)
        section = -1
        if self.settings.popular_scope == "section" and source is not None:
            section = columns.code(source.section)

        def admissible(docs: np.ndarray) -> np.ndarray:
            mask = self._admissible(docs, request, now)
            if section >= 0:
                mask &= columns.section[docs] == section
            return mask

        hidden = excluded | copies | {e.doc for e in shown}
        docs = most_read(
            self._most_read,
            admissible,
            hidden,
            request.k_popular,
            (columns.title_key, columns.body_key),
        )
        zeros = np.zeros(len(docs), dtype=np.float32)
        signals = {"cosine": zeros, "lexical": zeros, "popularity": self._popularity_of(docs)}
        scores = score(
            signals, list_weights("popular", self._weights, story_weight=0.0), lexical_share=0.0
        )
        return [_Entry(int(doc), 0.0, scores.of(row)) for row, doc in enumerate(docs.tolist())]

    def _copies_of(self, sources: set[int]) -> set[int]:
        """Published articles with a source's title or body: its copies and re-issues."""
        if not sources:
            return set()
        columns = self.columns
        size = len(columns.live)
        found: set[int] = set()
        for key_column, none in ((columns.title_key, NO_TITLE_KEY), (columns.body_key, NO_KEY)):
            keys = {int(key_column[s]) for s in sources} - {none}
            if keys:
                hits = np.isin(key_column[:size], np.fromiter(keys, dtype=np.int64))
                found.update(np.flatnonzero(hits & columns.live[:size]).tolist())
        return found

    def _pick(
        self,
        docs: np.ndarray,
        more_score: np.ndarray,
        relevance: np.ndarray,
        gate: np.ndarray,
        n_pins: int,
        pinned: list[tuple[int, int]],
        source_docs: set[int],
        pool_size: int,
        request: ListRequest,
    ) -> _Picked:
        """Choose both lists among the best ``pool_size`` candidates by each score; Related
        only among the rows that passed the gate.

        Rows ``0 .. n_pins - 1`` are pinned articles; ``pinned`` gives each one's position.
        """
        assert self._index is not None  # checked by the caller
        candidate_rows = np.arange(n_pins, len(docs))
        by_similarity = candidate_rows[np.argsort(-more_score[n_pins:], kind="stable")][:pool_size]
        related_rows = candidate_rows[gate[n_pins:]]
        by_relevance = related_rows[np.argsort(-relevance[related_rows], kind="stable")][:pool_size]
        in_pool = np.zeros(len(docs), dtype=bool)
        in_pool[:n_pins] = True
        in_pool[by_similarity] = True
        in_pool[by_relevance] = True
        pool = np.flatnonzero(in_pool)
        sources = np.array(sorted(source_docs), dtype=np.int64)
        # The sources go first, so a story holding a source is labelled below len(sources).
        members = np.concatenate([sources, docs[pool]])
        member_vectors = self._index.reconstruct(members)
        # One product serves both the story grouping and MMR's penalties.
        cosine = member_vectors @ member_vectors.T
        labels = story_labels(
            cosine,
            self.columns.title_key[members],
            self.settings.story_threshold,
            body_keys=self.columns.body_key[members],
        )
        # Each row's story and its place among the members (-1 outside the pool).
        story = np.full(len(docs), -1, dtype=np.int64)
        story[pool] = labels[len(sources) :]
        member_of = np.full(len(docs), -1, dtype=np.int64)
        member_of[pool] = np.arange(len(sources), len(members))
        claimed = set(story[:n_pins].tolist())
        claimed.update(range(len(sources)))  # copies of the source are never shown

        more: list[int] = []
        for row, label in zip(by_similarity.tolist(), story[by_similarity].tolist(), strict=True):
            if len(more) >= request.k_more:
                break
            if label not in claimed:
                more.append(row)
                claimed.add(label)

        # Each unclaimed story's most relevant row, in relevance order.
        open_rows = by_relevance[[label not in claimed for label in story[by_relevance].tolist()]]
        _, first = np.unique(story[open_rows], return_index=True)
        eligible = open_rows[np.sort(first)]
        at = member_of[eligible]
        chosen = mmr(
            relevance[eligible], cosine[np.ix_(at, at)], request.k_related, self.settings.mmr_lambda
        )
        ranked = eligible[chosen.order].tolist()
        penalty = dict(zip(ranked, chosen.penalty.tolist(), strict=True))
        related = place_pins(ranked, pinned, request.k_related)
        return _Picked(more, related, penalty)

    def _candidates(
        self,
        query: np.ndarray | int,
        words: TermVector,
        excluded: set[int],
        request: ListRequest,
        now: float,
        coread: dict[int, float] | None = None,
    ) -> _Candidates:
        """Candidates that pass the request's filters with their similarity parts: the stored
        article's table row and the fresh articles, or else a search of the index, widened if
        too few pass; for Related also the articles most co-read with the source (``coread``:
        doc -> weight) and the most popular articles that pass.
        """
        index, hoods, lexical = self._index, self._hoods, self.columns.lexical
        assert index is not None  # checked by the caller
        wanted = request.k_more + request.k_related
        excluded_ids = np.array(
            sorted(excluded | self._live_docs(request.exclude_ids)), dtype=np.int64
        )
        found = None
        if isinstance(query, int) and (row := hoods.row(query)) is not None:
            found = self._table_candidates(query, row, words, excluded_ids, request, now)
            if len(found.doc_ids) < 4 * wanted:
                found = None  # filters left too few: search the index as deep as needed
        if found is None:
            found = self._searched_candidates(query, words, excluded_ids, request, now)
        if request.k_related and coread and self.settings.coread_candidates:
            found = self._with_coread(found, coread, words, excluded_ids, request, now)
        if not (request.k_related and len(self._popular_docs)):
            return found
        # What many read is a candidate for Related even when it is no close neighbour:
        # readers read the day's big stories whatever led them there.
        popular = self._popular_of_generation()
        keep = _outside(popular.docs, found.doc_ids) & _outside(popular.docs, excluded_ids)
        keep &= self._admissible(popular.docs, request, now)
        if not keep.any():
            return found
        return found.plus(
            popular.docs[keep],
            popular.vectors[keep] @ found.query,
            lexical.score(words, popular.words)[keep],
        )

    def _table_candidates(
        self,
        doc: int,
        row: int,
        words: TermVector,
        excluded_ids: np.ndarray,
        request: ListRequest,
        now: float,
    ) -> _Candidates:
        index, hoods = self._index, self._hoods
        assert index is not None and hoods.table is not None
        table = hoods.table
        docs = table.docs[row].astype(np.int64)
        valid = docs >= 0
        docs = docs[valid]
        keep = ~hoods.stale(docs) & self._admissible(docs, request, now)
        keep &= _outside(docs, excluded_ids)
        query = hoods.row_augmented(doc, row, index, self.columns.live)
        cosine = table.cosine[row][valid][keep].astype(np.float32)
        lexical = table.lexical[row][valid][keep].astype(np.float32)
        docs = docs[keep]
        fresh, fresh_aug = hoods.fresh()
        if len(fresh):
            fresh_cosine = fresh_aug @ query
            ok = self._admissible(fresh, request, now) & _outside(fresh, excluded_ids)
            ok &= fresh != doc
            fresh, fresh_cosine = fresh[ok], fresh_cosine[ok]
            best = np.arange(len(fresh))
            if len(fresh) > self._shape.depth:  # many changed since the table: the best only
                best = np.argpartition(-fresh_cosine, self._shape.depth - 1)[: self._shape.depth]
            fresh, fresh_cosine = fresh[best], fresh_cosine[best]
            docs = np.concatenate([docs, fresh])
            cosine = np.concatenate([cosine, fresh_cosine])
            lexical = np.concatenate([lexical, self.columns.lexical.similarity(words, fresh)])
        return _Candidates(docs, cosine.astype(np.float32), lexical.astype(np.float32), query)

    def _searched_candidates(
        self,
        query: np.ndarray | int,
        words: TermVector,
        excluded_ids: np.ndarray,
        request: ListRequest,
        now: float,
    ) -> _Candidates:
        index, hoods, live = self._index, self._hoods, self.columns.live
        assert index is not None
        doc = query if isinstance(query, int) else None
        vector = (
            index.reconstruct(np.array([query], dtype=np.int64))[0]
            if isinstance(query, int)
            else query.astype(np.float32)
        )
        if doc is not None and (row := hoods.row(doc)) is not None:
            query_aug = hoods.row_augmented(doc, row, index, live)
        else:
            query_aug = hoods.query_augmented(vector, doc, index, self.columns.lexical, words)
        total = len(index)
        wanted = request.k_more + request.k_related
        n = min(max(self.settings.candidates, 4 * (wanted + len(excluded_ids))), total)
        while True:
            ids, _ = index.search(vector[None, :], n)
            ids = ids[0][ids[0] >= 0]
            mask = self._admissible(ids, request, now) & _outside(ids, excluded_ids)
            if int(mask.sum()) >= 4 * wanted or n >= total:
                break
            n = min(4 * n, total)
        ids = ids[mask]
        cosine = hoods.augmented(ids, index, live) @ query_aug
        lexical = self.columns.lexical.similarity(words, ids)
        return _Candidates(ids, cosine.astype(np.float32), lexical, query_aug)

    def _with_coread(
        self,
        found: _Candidates,
        coread: dict[int, float],
        words: TermVector,
        excluded_ids: np.ndarray,
        request: ListRequest,
        now: float,
    ) -> _Candidates:
        """``found`` plus the articles most co-read with the source that pass the filters."""
        # What the source's readers also read is a candidate whatever its topic.
        limit = self.settings.coread_candidates
        extra = np.array(sorted(coread, key=lambda d: (-coread[d], d))[:limit], dtype=np.int64)
        extra = extra[_outside(extra, found.doc_ids) & _outside(extra, excluded_ids)]
        extra = extra[self._admissible(extra, request, now)]
        if not len(extra):
            return found
        assert self._index is not None  # checked by the caller
        return found.plus(
            extra,
            self._hoods.augmented(extra, self._index, self.columns.live) @ found.query,
            self.columns.lexical.similarity(words, extra),
        )

    def _coread_of(self, sources: set[int]) -> dict[int, float]:
        """Each live doc read by readers of ``sources`` and its co-read weight, the mean over
        the sources (none for a draft)."""
        weights: dict[int, float] = {}
        for source in sources:
            article_id = self.columns.article_ids.get(source)
            for other, weight in self._coreads.neighbours(article_id) if article_id else []:
                doc = self.columns.doc_ids.get(other)
                if doc is not None:
                    weights[doc] = weights.get(doc, 0.0) + weight / len(sources)
        return weights

    def _popular_of_generation(self) -> _Popular:
        """The popular articles with their augmented vectors and words, gathered once per
        change: every list of Related scores them."""
        assert self._index is not None
        popular = self._popular
        # The generation grows whenever popularity or the catalogue changes.
        if popular is None or popular.generation != self._generation:
            docs = self._popular_docs
            popular = _Popular(
                self._generation,
                docs,
                self._hoods.augmented(docs, self._index, self.columns.live),
                self.columns.lexical.block(docs),
            )
            self._popular = popular
        return popular

    def _admissible(self, docs: np.ndarray, request: ListRequest, now: float) -> np.ndarray:
        """Which of ``docs`` are published and pass the request's section, language and age."""
        columns = self.columns
        mask = columns.live[docs].copy()
        if request.sections:
            codes = [c for c in (columns.code(s) for s in request.sections) if c >= 0]
            mask &= np.isin(columns.section[docs], codes)
        if request.exclude_sections:
            codes = [c for c in (columns.code(s) for s in request.exclude_sections) if c >= 0]
            mask &= ~np.isin(columns.section[docs], codes)
        if request.language:
            code = columns.code(request.language)
            mask &= (columns.language[docs] == code) & (code >= 0)
        if request.max_age_days is not None:
            oldest = now - request.max_age_days * SECONDS_PER_DAY
            mask &= columns.published_ts[docs] >= oldest
        return np.asarray(mask, dtype=bool)

    def _recency(
        self, docs: np.ndarray, source: ArticleRecord | None, now: float, missing: list[str]
    ) -> np.ndarray:
        published = self.columns.published_ts[docs]
        if len(docs) and not np.isfinite(published).any():
            missing.append("recency")  # no candidate has a publish time to compare
        if self.settings.recency_reference == "now":
            return recency_from_now(
                published, now, half_life_days=self.settings.recency_half_life_now_days
            )
        if source is None:
            source_ts = now  # a draft or a reader's reads: what is around now
        elif source.published_at is None:
            source_ts = float("nan")
            if "recency" not in missing:
                missing.append("recency")
        else:
            source_ts = source.published_at.timestamp()
        return recency_around(
            published,
            source_ts,
            half_life_before_days=self.settings.recency_half_life_before_days,
            half_life_after_days=self.settings.recency_half_life_after_days,
        )

    def _popularity_method(self) -> Literal["log", "percentile"]:
        method = self.settings.popularity_normalisation
        return "percentile" if method == "candidates" else method

    def _popularity_of(self, docs: np.ndarray) -> np.ndarray:
        """The popularity of ``docs``: read from every article's, or, with the normalisation
        ``candidates``, worked out among ``docs`` themselves (a list's candidates).
        """
        if self.settings.popularity_normalisation == "candidates":
            return popularity_signal(
                _gathered(self._popularity_counts, docs, 0.0),
                _gathered(self.columns.published_ts, docs, np.nan),
                self._popularity_newest,
                method="percentile",
                half_life_days=self.settings.popularity_half_life_days,
            )
        return _gathered(self._popularity, docs, 0.0)

    def _live_doc(self, article_id: str) -> int | None:
        doc = self.columns.doc_ids.get(article_id)
        live = self.columns.live
        return doc if doc is not None and doc < len(live) and live[doc] else None

    def _live_docs(self, article_ids: Iterable[str]) -> set[int]:
        return {doc for a in article_ids if (doc := self._live_doc(a)) is not None}

    def _source_terms(
        self, source: ArticleRecord | None, text: tuple[str, str] | None, docs: set[int]
    ) -> Terms:
        if source is not None:
            return terms_of(source.title, source.body)
        if text is not None:
            return terms_of(*text)
        records = self.catalogue.get_by_doc_ids(sorted(docs))
        return terms_of(". ".join(r.title for r in records), "\n".join(r.body for r in records))

    def _term_statistics(self) -> TermStatistics:
        # Document frequencies from an even sample of the catalogue: enough for stable IDF,
        # built once, on the first explained request.
        with self._terms_lock:
            if self._terms is None:
                live = np.flatnonzero(self.columns.live)
                sample = live[:: max(1, len(live) // _TERM_SAMPLE)][:_TERM_SAMPLE]
                records = self.catalogue.get_by_doc_ids(sample.tolist())
                self._terms = TermStatistics(terms_of(r.title, r.body) for r in records)
            return self._terms

    def _items(
        self, entries: list[_Entry], source_terms: Terms | None, explain: bool
    ) -> list[ListItem]:
        if explain:
            records = {r.doc_id: r for r in self.catalogue.get_by_doc_ids(e.doc for e in entries)}
        else:
            cards = self.columns.cards
            records = {e.doc: cards[e.doc] for e in entries if e.doc in cards}
        statistics = self._term_statistics() if source_terms is not None else None
        items: list[ListItem] = []
        for entry in entries:
            record = records.get(entry.doc)
            if record is None:  # unpublished between search and fetch
                continue
            # Parts are rounded as shown and the score is their sum, so they add up exactly.
            parts = {name: round(value, 6) + 0.0 for name, value in entry.parts.items()}
            shared: tuple[str, ...] = ()
            if source_terms is not None and statistics is not None:
                shared = shared_terms(source_terms, terms_of(record.title, record.body), statistics)
            items.append(
                ListItem(
                    record,
                    math.fsum(parts.values()),
                    entry.similarity,
                    parts if explain else None,
                    shared,
                    entry.pinned,
                )
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
            # Which path embeds drafts and new articles, told without loading the model.
            "embedding_backend": self._embedder.backend
            if self._embedder
            else f"{planned_backend(self.settings)} (not loaded yet)",
            "index_version": self.index_version,
            "index_kind": version.manifest.kind if version else None,
            # Lists of these articles read their precomputed row; the rest are searched.
            "neighbour_table_rows": len(self._hoods.table) if self._hoods.table else 0,
            "changed_since_table": len(self._hoods.fresh()[0]),
            "index_created_at": created.isoformat() if created else None,
            "index_age_seconds": (datetime.now(UTC) - created).total_seconds() if created else None,
            "events": self.events.count(),
            "overrides_in_force": len(self._rules.overrides),
        }
