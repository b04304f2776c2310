"""The engine: the facade that loads a home, keeps its serving state fresh and answers lists.

A request reads one :class:`~recommender.serving.state.ServingState`. Its lists are made by
plain functions in their own rooms: the candidates (:mod:`recommender.serving.candidates`),
their signals (:mod:`recommender.serving.features`), the one formula
(:mod:`recommender.ranking.scoring`), the choice of More like this and Related with stories,
the gate, diversity and pins (:mod:`recommender.ranking.lists`), Popular
(:mod:`recommender.ranking.popular`) and the items with their explanations
(:mod:`recommender.serving.items`). This class only loads, refreshes and dispatches.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from index import ArticleRecord, Catalogue, IndexLoadError, IndexStore, IndexVersion, VectorIndex
from index.errors import CatalogueUnavailable
from index.events import Event, EventStore
from index.overrides import OverrideStore
from recommender.embedding.embedder import Embedder, load_embedder, planned_backend
from recommender.operations.indexing import Replay, replay_changes, table_shape
from recommender.ranking.gate import RelatedGate, calibrate_floors
from recommender.ranking.lists import Entry, Pool, rank
from recommender.ranking.overrides import EditorialRules
from recommender.ranking.popular import most_read
from recommender.ranking.reach import Reach, reach_depth
from recommender.ranking.scoring import Weights, list_weights, score
from recommender.serving.answers import ListItem, RelatedLists, UnknownArticle
from recommender.serving.candidates import admissible, gather
from recommender.serving.columns import ArticleColumns
from recommender.serving.features import coread_of, features, popularity_of, shared_readers
from recommender.serving.items import Explainer
from recommender.serving.requests import ListRequest
from recommender.serving.state import PopularPool, Readership, ServingState
from recommender.settings import Settings
from recommender.signals.coreads import CoReads
from recommender.signals.lexical import LexicalIndex, TermVector
from recommender.signals.neighbourhood import Neighbourhoods, NeighbourTable, NeighbourTableError
from recommender.signals.popularity import DecayedCounts, popularity_signal
from recommender.signals.section import filed_apart, filed_together

__all__ = ["Engine", "ListItem", "RelatedLists", "UnknownArticle"]

_MOST_READ = 1_000  # most read articles kept in order for Popular: enough past any filter
_RECALIBRATE = 0.2  # change in published articles at which Related's floor is measured again


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
        self.catalogue = Catalogue(settings.catalogue)
        self.store = IndexStore(settings.index_root)
        self.events = EventStore(settings.catalogue)
        self.overrides = OverrideStore(settings.catalogue)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._clock = clock
        # Requests hold this lock while they read the in-place structures of the state
        # (index, columns, neighbourhoods, co-reads); refreshes hold it to change them.
        self._lock = threading.RLock()
        self._weights = Weights.from_settings(settings)
        self._shape = table_shape(settings)
        self._explainer = Explainer(self.catalogue)
        self._counts = DecayedCounts(
            half_life_days=settings.popularity_half_life_days, click_weight=settings.click_weight
        )
        self._state = ServingState(
            None,
            None,
            0,
            ArticleColumns(),
            Neighbourhoods(None, self._shape, 1),
            CoReads(
                window=settings.coread_window,
                shrink=settings.coread_shrink,
                partners=settings.coread_partners,
                readers=settings.coread_readers,
            ),
            self._gate(-math.inf, -math.inf),
        )
        self._rules_rev = -1
        self._next_expiry = math.inf
        self._gate_size = -1  # published articles when the gate's floor was calibrated
        self._signals_lock = threading.Lock()
        self._folded_columns: ArticleColumns | None = None
        self._folded_at = -math.inf
        self.load()

    # --- the state ----------------------------------------------------------------------
    @property
    def state(self) -> ServingState:
        """The serving state lists are made from now."""
        return self._state

    @property
    def columns(self) -> ArticleColumns:
        """The in-memory columns of the published articles."""
        return self._state.columns

    def _swap(self, **changes: Any) -> None:
        """Install a new state with ``changes`` (under the lock) and a new generation."""
        with self._lock:
            state = self._state
            self._state = dataclasses.replace(state, **changes, generation=state.generation + 1)

    def _gate(self, floor: float, more_floor: float, published: int = 0) -> RelatedGate:
        settings = self.settings
        depth = reach_depth(published, settings.related_reach_share, settings.candidates)
        reach = Reach(depth) if settings.related_reach_share > 0 and depth else None
        return RelatedGate(
            floor,
            settings.related_depth,
            settings.coread_min_readers,
            reach,
            more_floor=more_floor,
            more_quantile=settings.more_floor_quantile,
        )

    # --- loading and freshness ----------------------------------------------------------
    def load(self) -> None:
        """(Re)load the current published index and catch up with the catalogue.

        The new state is built off to the side (the index read and verified, the catalogue
        changes made since it was built replayed onto it) and installed in one step, so every
        request runs wholly on the old state or wholly on the new one.
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
        vectors = table.vectors if table is not None else None
        if vectors is not None and index is not None and vectors.shape[1] != index.dim:
            raise IndexLoadError(
                f"{version.path if version else 'index'}: the neighbour table's vectors have "
                f"{vectors.shape[1]} dimensions, the index {index.dim}; run `newsrec reindex`"
            )
        hoods = Neighbourhoods(table, self._shape, index.dim if index is not None else 1)
        replay = self._replay(index, columns, hoods, built)
        index = replay.index
        if index is not None and table is not None and table.seq < built:
            # Changes between the table and the index it was published with: fresh too.
            changed = {c.doc_id for c in self.catalogue.changes_since(table.seq) if c.seq <= built}
            hoods.changed(
                np.array(sorted(changed), dtype=np.int64), index, columns.lexical, columns.live
            )
        with self._lock:
            # Changes the serving state took while this one was built (a write's refresh, a
            # read's catch-up to its min_generation) are applied here too: the swap must never
            # take a reader back to an older catalogue generation.
            late = self._replay(index, columns, hoods, replay.last_seq)
            self._swap(
                index=late.index, version=version, seq=late.last_seq, columns=columns, hoods=hoods
            )
        self._gate_size = -1
        self.refresh()

    def _table_of(self, version: IndexVersion | None) -> NeighbourTable | None:
        if version is None:
            return None
        try:
            return NeighbourTable.from_arrays(self.store.extras(version))
        except NeighbourTableError as exc:
            raise IndexLoadError(f"{version.path}: {exc}; run `newsrec reindex`") from exc

    def _replay(
        self, index: VectorIndex | None, columns: ArticleColumns, hoods: Neighbourhoods, since: int
    ) -> Replay:
        """Replay catalogue changes after ``since`` onto the index (the one replay,
        :func:`recommender.operations.indexing.replay_changes`), the columns and the
        neighbourhoods."""
        replay = replay_changes(index, self.catalogue, since)
        if replay.count:
            columns.put(replay.records)
            for doc in replay.gone.tolist():
                columns.drop(int(doc))
            if replay.index is not None:
                hoods.changed(replay.touched, replay.index, columns.lexical, columns.live)
                if self._state.gate.reach is not None:  # changed vectors: measured again
                    self._state.gate.reach.forget(replay.touched)
        return replay

    def refresh(self) -> int:
        """Apply catalogue changes made since the index was built; returns how many.

        Also picks up editorial overrides added or removed since, folds new events into
        popularity (at most every ``popularity_refresh_seconds``, at once after catalogue
        changes) and measures Related's floor again when the catalogue has changed much.
        """
        applied = self._refresh_catalogue()
        self._refresh_overrides()
        self._refresh_popularity(force=applied > 0)
        self._calibrate_gate()
        return applied

    def _refresh_catalogue(self) -> int:
        if self.catalogue.last_seq() <= self._state.seq:
            return 0
        with self._lock:
            state = self._state
            replay = self._replay(state.index, state.columns, state.hoods, state.seq)
            if replay.count:
                self._swap(index=replay.index, seq=replay.last_seq)
            return replay.count

    def _calibrate_gate(self) -> None:
        """Measure Related's similarity floor on this catalogue (recommender/ranking/gate.py):
        at load, and again when the published articles grew or shrank by a fifth."""
        state = self._state
        size = len(state.columns.article_ids)  # published articles, counted without a scan
        known = self._gate_size
        if known >= 0 and abs(size - known) <= _RECALIBRATE * max(known, 1):
            return
        index = state.index
        floor = more_floor = -math.inf
        if index is not None and size:
            with self._lock:
                floor, more_floor = calibrate_floors(
                    np.flatnonzero(state.columns.live).astype(np.int64),
                    lambda a, b: np.asarray(
                        index.reconstruct(a) @ index.reconstruct(b).T, dtype=np.float32
                    ),
                    (self.settings.related_floor_quantile, self.settings.more_floor_quantile),
                )
        # Names' weights are frozen with the floor (signals/lexical.py: freeze_statistics).
        state.columns.names.freeze_statistics()
        self._swap(gate=self._gate(floor, more_floor, size))
        self._gate_size = size

    def _refresh_overrides(self) -> bool:
        rev = self.overrides.rev()
        if rev == self._rules_rev:
            return False
        rules = EditorialRules.of(self.overrides.in_force())
        self._rules_rev = rev
        self._next_expiry = self._expiry_after(rules, self._clock())
        self._swap(rules=rules)
        return True

    @staticmethod
    def _expiry_after(rules: EditorialRules, now: float) -> float:
        expiry = rules.next_expiry(datetime.fromtimestamp(now, UTC))
        return expiry.timestamp() if expiry is not None else math.inf

    def _refresh_popularity(self, *, force: bool = False) -> bool:
        """Fold new events into the decayed counts and co-reads, and recompute every
        article's popularity, Popular's order and Related's popular candidates."""
        with self._signals_lock:
            now = self._clock()
            state = self._state
            columns = state.columns
            new_events = self.events.last_seq() > self._counts.last_seq
            due = now - self._folded_at >= self.settings.popularity_refresh_seconds
            if not (force or columns is not self._folded_columns or (new_events and due)):
                return False
            for batch in self.events.since(self._counts.last_seq):
                self._counts.add(batch)
                with self._lock:  # lists read the co-reads under this lock
                    state.coreads.add(batch)
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
            popular = popular[ranked[popular] > 0].astype(np.int64)
            read = np.flatnonzero(counts > 0)
            with self._lock:
                pool = self._popular_pool(state, popular)
                self._swap(
                    readership=Readership(
                        signal,
                        counts,
                        newest,
                        bool(np.any(counts > 0)),
                        read[np.argsort(-counts[read], kind="stable")][:_MOST_READ].astype(
                            np.int64
                        ),
                        pool,
                    )
                )
            self._folded_columns, self._folded_at = columns, now
            return True

    @staticmethod
    def _popular_pool(state: ServingState, docs: np.ndarray) -> PopularPool:
        if state.index is None or not len(docs):
            return PopularPool(docs, np.zeros((0, 1), dtype=np.float32), None)
        return PopularPool(
            docs,
            state.hoods.augmented(docs, state.index, state.columns.live),
            state.columns.lexical.block(docs),
        )

    def _popularity_method(self) -> Literal["log", "percentile"]:
        method = self.settings.popularity_normalisation
        return "percentile" if method == "candidates" else method

    def record_events(self, events: Sequence[Event]) -> int:
        """Store reading events (views, clicks); returns how many were new.

        They count in popularity from the next refresh that folds events in (at most
        ``popularity_refresh_seconds`` later).

        Raises:
            index.events.EventError: an event with an empty id, unknown kind or naive time.
        """
        return self.events.add(events)

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
                    self._next_expiry = self._expiry_after(self._state.rules, now)
                    self._swap()
        return self._state.generation

    @property
    def published_name(self) -> str | None:
        """The name of the published index version loaded, if any."""
        version = self._state.version
        return version.name if version else None

    @property
    def index_version(self) -> str:
        """The published version served, plus the catalogue changes applied on top of it."""
        return self._state.index_version

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (reading lists of stored ids needs none)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings)
            return self._embedder

    def __len__(self) -> int:
        index = self._state.index
        return 0 if index is None else len(index)

    def close(self) -> None:
        """Release the catalogue, events and overrides."""
        self.events.close()
        self.overrides.close()
        self.catalogue.close()

    # --- lists --------------------------------------------------------------------------
    def lists_for(self, article_id: str, request: ListRequest | None = None) -> RelatedLists:
        """The lists for the published article ``article_id``.

        Raises:
            UnknownArticle: no published article has that id.
            UnknownFilterValue: a filter names a value no published article has (every
                ``lists_for*`` method refuses it alike).
        """
        request = request or ListRequest()
        with self._lock:
            state = self._state
            doc = state.live_doc(article_id)
            if state.index is None or doc is None or not state.index.contains(doc):
                raise UnknownArticle(article_id)
            # Its card says all a list needs; explanations read the whole text.
            source = self.catalogue.get(article_id) if request.explain else state.columns.cards[doc]
            if source is None:
                raise UnknownArticle(article_id)
            chosen = self._lists(state, doc, source, {doc}, request)
        return self._answer(state, chosen, request)

    def lists_for_many(
        self, sources: Sequence[ArticleRecord], request: ListRequest | None = None
    ) -> list[RelatedLists]:
        """The lists for each of ``sources`` (catalogue records), exactly as :meth:`lists_for`
        makes them (``newsrec precompute``). Sources that are not in the index are left out.
        """
        request = request or ListRequest()
        with self._lock:
            state = self._state
            index = state.index
            if index is None or len(index) == 0:
                return []
            chosen = [
                self._lists(state, s.doc_id, s, {s.doc_id}, request)
                for s in sources
                if index.contains(s.doc_id)
            ]
        return [self._answer(state, c, request) for c in chosen]

    def lists_for_text(self, text: str, request: ListRequest | None = None) -> RelatedLists:
        """The lists for a draft that is not in the catalogue (recency measured from now)."""
        request = request or ListRequest()
        query = self.embedder.encode([text])[0]
        with self._lock:
            state = self._state
            chosen = self._lists(state, query, None, set(), request, source_text=(text, ""))
        return self._answer(state, chosen, request)

    def lists_for_articles(
        self, article_ids: Sequence[str], request: ListRequest | None = None
    ) -> RelatedLists:
        """The lists for a set of articles ("more like these"), e.g. a reader's last reads.

        Raises:
            UnknownArticle: for the first id that is not published.
        """
        request = request or ListRequest()
        with self._lock:
            state = self._state
            docs: list[int] = []
            for article_id in article_ids:
                doc = state.live_doc(article_id)
                if doc is None or state.index is None:
                    raise UnknownArticle(article_id)
                docs.append(doc)
            centroid = self._centroid(state, docs)
            chosen = self._lists(state, centroid, None, set(docs), request)
        return self._answer(state, chosen, request)

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
            state = self._state
            index = state.index
            if index is None or len(index) == 0:
                return []
            sources = [d for a in article_ids if (d := state.live_doc(a)) is not None]
            docs = np.array(
                [d for a in candidate_ids if (d := state.live_doc(a)) is not None], dtype=np.int64
            )
            if not len(docs):
                return []
            source_docs = set(sources)
            words = self._terms(state.columns.lexical, source_docs, None)
            if sources:
                plain = self._centroid(state, sources)
                query = state.hoods.query_augmented(
                    plain, None, index, state.columns.lexical, words
                )
                cosine = state.hoods.augmented(docs, index, state.columns.live) @ query
                content = index.reconstruct(docs) @ plain
            else:
                cosine = content = np.zeros(len(docs), dtype=np.float32)
            coread = coread_of(state, source_docs)
            source = state.columns.cards.get(sources[0]) if len(sources) == 1 else None
            weights = request.weights or self._weights
            signals = features(
                state,
                self.settings,
                docs,
                cosine.astype(np.float32),
                state.columns.lexical.similarity(words, docs),
                source,
                coread,
                self._clock(),
                [],
                [weights],
                self._terms(state.columns.names, source_docs, None),
            )
            scores = score(signals, weights, lexical_share=self.settings.related_lexical_weight)
            passed = state.gate.passes(
                np.asarray(content, dtype=np.float32),
                shared_readers(state, source_docs, docs, coread),
                request.k_related,
                self._apart(state, source, docs, content),
                self._reach(state, docs, content, request.k_related),
            )
            order = np.lexsort((np.arange(len(docs)), -scores.total, ~passed))
            entries = [
                Entry(int(docs[row]), float(cosine[row]), scores.of(int(row)))
                for row in order.tolist()
            ]
            return self._explainer.items(
                entries, state.columns.cards, None, request.explain, state.columns.live
            )

    @staticmethod
    def _centroid(state: ServingState, docs: list[int]) -> np.ndarray:
        assert state.index is not None  # checked by the caller
        centroid = state.index.reconstruct(np.array(docs, dtype=np.int64)).mean(axis=0)
        return np.asarray(centroid / max(float(np.linalg.norm(centroid)), 1e-12), np.float32)

    @staticmethod
    def _terms(
        terms: LexicalIndex, sources: set[int], source_text: tuple[str, str] | None
    ) -> TermVector:
        """The source's term vector in ``terms`` (its words, or its names): of the draft's
        text, or of the source articles."""
        if source_text is not None:
            return terms.vector_of_text(*source_text)
        return terms.vector_of(np.array(sorted(sources), dtype=np.int64))

    @staticmethod
    def _pins(
        state: ServingState,
        source_id: str | None,
        when: datetime,
        list_name: str,
        refused: set[int],
    ) -> list[tuple[int, int]]:
        """``(doc, 1-based position)`` of the live pins into ``source_id``'s list
        ``list_name``, strongest first, leaving out the ``refused`` docs."""
        pins: list[tuple[int, int]] = []
        for pin in state.rules.pins(source_id, when, list_name):
            doc = state.live_doc(pin.target_id)
            if doc is not None and doc not in refused:
                pins.append((doc, pin.position or 1))
        return pins

    def _lists(
        self,
        state: ServingState,
        query: np.ndarray | int,
        source: ArticleRecord | None,
        sources: set[int],
        request: ListRequest,
        *,
        source_text: tuple[str, str] | None = None,
    ) -> _Chosen:
        """Choose the lists for ``query``: a stored article's doc id, or a vector (draft,
        centroid). Runs under the lock; :meth:`_answer` dresses the choice outside it."""
        index = state.index
        if index is None or len(index) == 0:
            return _Chosen(source, sources, source_text, [], [], [], ("index",), {})
        state.columns.facets.check(request)  # a filter value no article has: a typo
        now = self._clock()
        when = datetime.fromtimestamp(now, UTC)
        rules_for = source.id if source is not None else None
        blocked = state.live_docs(state.rules.blocked(rules_for, when))
        refused = blocked | sources
        pins = self._pins(state, rules_for, when, "related", refused) if request.k_related else []
        more_pins = (
            self._pins(state, rules_for, when, "more_like_this", refused) if request.k_more else []
        )
        pinned_docs = (doc for doc, _ in pins + more_pins)
        pin_docs = np.array(list(dict.fromkeys(pinned_docs)), dtype=np.int64)
        if pins or more_pins:
            pin_docs = pin_docs[admissible(state, pin_docs, request, now)]
        excluded = sources | blocked | set(pin_docs.tolist())
        words = self._terms(state.columns.lexical, sources, source_text)
        coread = coread_of(state, sources)
        missing: list[str] = []
        short: dict[str, str] = {}
        more: list[Entry] = []
        related: list[Entry] = []
        if request.k_more or request.k_related:
            found = gather(state, self.settings, query, words, excluded, request, now, coread)
            # Pinned articles first, then the candidates: one row each in every array below.
            docs, cosine, lexical = found.doc_ids, found.cosine, found.lexical
            if len(pin_docs):  # most lists have none: spare them the array work
                docs = np.concatenate([pin_docs, docs])
                pin_aug = state.hoods.augmented(pin_docs, index, state.columns.live)
                cosine = np.concatenate([pin_aug @ found.query, cosine]).astype(np.float32)
                pin_lexical = state.columns.lexical.similarity(words, pin_docs)
                lexical = np.concatenate([pin_lexical, lexical]).astype(np.float32)
            if len(docs) == 0:
                missing.append("candidates")  # nothing else published (or all filtered out)
            # The gate compares plain embeddings: the augmented ones are pulled towards their
            # neighbourhoods, which makes a whole small catalogue look alike.
            if isinstance(query, int):
                plain = index.reconstruct(np.array([query], dtype=np.int64))[0]
            else:
                plain = np.asarray(query, dtype=np.float32)
            pin_rows = {int(doc): row for row, doc in enumerate(pin_docs.tolist())}
            # Copies of the source, and of articles the caller shows, are not shown.
            anchors = np.array(sorted(sources | state.live_docs(request.exclude_ids)), np.int64)
            # Read once: the gate's cosines and the stories' and MMR's both need them.
            vectors = index.reconstruct(docs)
            content = (vectors @ plain).astype(np.float32)
            weights = request.weights or self._weights
            weighed = [
                weights,
                list_weights("more_like_this", weights, story_weight=self.settings.story_weight),
            ]
            ranked = rank(
                Pool(
                    docs,
                    features(
                        state,
                        self.settings,
                        docs,
                        cosine,
                        lexical,
                        source,
                        coread,
                        now,
                        missing,
                        weighed,
                        self._terms(state.columns.names, sources, source_text),
                    ),
                    content,
                    shared_readers(state, sources, docs, coread),
                    len(pin_docs),
                    [(pin_rows[doc], at) for doc, at in pins if doc in pin_rows],
                    vectors,
                    anchors,
                    index.reconstruct(anchors),
                    state.columns.title_key,
                    state.columns.body_key,
                    self._apart(state, source, docs, content),
                    reach=self._reach(state, docs, content, request.k_related),
                    pinned_more=tuple((pin_rows[d], at) for d, at in more_pins if d in pin_rows),
                    filed_with=self._filed_with(state, source, docs, content, request.k_more),
                ),
                weights,
                state.gate,
                self.settings,
                request.k_more,
                request.k_related,
            )
            more, related, short = ranked.more, ranked.related, dict(ranked.short)
        popular = self._popular(state, source, sources, excluded, more + related, request, now)
        if len(popular) < request.k_popular:
            short["popular"] = (
                f"{len(popular)} articles read recently pass the filters"
                if state.readership.any_reads
                else "no reading events: nothing is popular yet"
            )
        return _Chosen(source, sources, source_text, more, related, popular, tuple(missing), short)

    def _apart(
        self,
        state: ServingState,
        source: ArticleRecord | None,
        docs: np.ndarray,
        content: np.ndarray,
    ) -> np.ndarray | None:
        """Candidates filed apart from the source (Related's section rule, ranking/gate.py),
        or None when the rule is off or there is no single filed source. Only the candidates
        above the content floor are looked up: the rest cannot pass by content anyway."""
        if not self.settings.related_same_subject or source is None:
            return None
        apart = np.zeros(len(docs), dtype=bool)
        close = np.flatnonzero(np.asarray(content) >= state.gate.floor)
        apart[close] = filed_apart(source.section, source.tags, docs[close], state.columns.cards)
        return apart

    def _filed_with(
        self,
        state: ServingState,
        source: ArticleRecord | None,
        docs: np.ndarray,
        content: np.ndarray,
        k: int,
    ) -> np.ndarray | None:
        """Candidates below More like this's floor that the newsroom filed with the source (its
        section or a tag; ranking/lists.py), or None when the section rule is off, there is no
        filed source, or enough candidates are above the floor anyway (most lists: spared the
        lookups)."""
        if not self.settings.related_same_subject or source is None or not k:
            return None
        if not (source.section or source.tags):
            return None
        below = np.flatnonzero(np.asarray(content) < state.gate.more_floor)
        if len(docs) - len(below) >= max(self.settings.list_pool, 2 * k):
            return None
        together = np.zeros(len(docs), dtype=bool)
        together[below] = filed_together(
            source.section, source.tags, docs[below], state.columns.cards
        )
        return together

    @staticmethod
    def _reach(
        state: ServingState, docs: np.ndarray, content: np.ndarray, k: int
    ) -> np.ndarray | None:
        """The reach of the candidates that may pass Related's content gate (the closest,
        above the floor; ranking/reach.py), -inf for the rest: they cannot pass by content."""
        reach, index = state.gate.reach, state.index
        if reach is None or index is None:
            return None
        content = np.asarray(content, dtype=np.float32)
        out = np.full(len(docs), -np.inf, dtype=np.float32)
        close = np.flatnonzero(content >= state.gate.floor)
        depth = max(state.gate.depth, 2 * k)
        if len(close) > depth:
            close = close[np.argpartition(-content[close], depth - 1)[:depth]]
        if len(close):
            out[close] = reach.of(
                np.asarray(docs, dtype=np.int64)[close], index, state.columns.live
            )
        return out

    def _answer(self, state: ServingState, chosen: _Chosen, request: ListRequest) -> RelatedLists:
        """The chosen lists as items, with their explanations: outside the lock, since they
        read only the catalogue and the cards (the words of explained lists are the costly
        part of a request, and must not hold up the others)."""
        terms = (
            self._explainer.source_terms(chosen.source, chosen.source_text, chosen.sources)
            if request.explain
            else None
        )

        def items(entries: list[Entry]) -> list[ListItem]:
            return self._explainer.items(
                entries, state.columns.cards, terms, request.explain, state.columns.live
            )

        return RelatedLists(
            chosen.source,
            items(chosen.more),
            items(chosen.related),
            state.index_version,
            chosen.missing,
            items(chosen.popular),
            chosen.short,
        )

    def _popular(
        self,
        state: ServingState,
        source: ArticleRecord | None,
        sources: set[int],
        excluded: set[int],
        shown: list[Entry],
        request: ListRequest,
        now: float,
    ) -> list[Entry]:
        """Popular: the most read right now (recommender/ranking/popular.py)."""
        if not request.k_popular or not len(state.readership.most_read):
            return []
        columns = state.columns
        section = -1
        if self.settings.popular_scope == "section" and source is not None:
            section = columns.code(source.section)

        def passes(docs: np.ndarray) -> np.ndarray:
            mask = admissible(state, docs, request, now)
            if section >= 0:
                mask &= columns.section[docs] == section
            return mask

        on_page = sources | {e.doc for e in shown}
        docs = most_read(
            state.readership.most_read,
            passes,
            excluded | on_page,
            request.k_popular,
            (columns.title_key, columns.body_key),
            on_page,  # nor a copy or re-issue of anything already on the page
        )
        zeros = np.zeros(len(docs), dtype=np.float32)
        signals = {
            "cosine": zeros,
            "lexical": zeros,
            "popularity": popularity_of(state, self.settings, docs),
        }
        weights = list_weights("popular", self._weights, story_weight=0.0)
        scores = score(signals, weights, lexical_share=0.0)
        return [Entry(int(doc), 0.0, scores.of(row)) for row, doc in enumerate(docs.tolist())]

    # --- status -------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """Counts, model, index version and age, for ``newsrec status`` and ``/readyz``."""
        state = self._state
        version = state.version
        created = version.manifest.created_at if version else None
        hoods = state.hoods
        # A shared catalogue may be out of reach while lists are answered from memory: the
        # status then says so instead of failing, so that a replica stays in its pool.
        try:
            articles: int = self.catalogue.count()
            catalogue_seq: int | None = self.catalogue.last_seq()
            events: int | None = self.events.count()
            reachable = "ok"
        except CatalogueUnavailable as exc:
            articles, catalogue_seq, events = len(state.columns.article_ids), None, None
            reachable = f"unavailable ({exc}); lists come from memory, writes are refused"
        return {
            "home": str(self.settings.home),
            "catalogue": reachable,
            "articles": articles,
            # Changes this worker's lists hold, and how far they are behind the catalogue.
            "applied_seq": state.seq,
            "catalogue_seq": catalogue_seq,
            "lag": None if catalogue_seq is None else max(0, catalogue_seq - state.seq),
            "indexed": len(self),
            "model": self.settings.model,
            # Which path embeds drafts and new articles, told without loading the model.
            "embedding_backend": self._embedder.backend
            if self._embedder
            else f"{planned_backend(self.settings)} (not loaded yet)",
            "index_version": state.index_version,
            "index_kind": version.manifest.kind if version else None,
            # Lists of these articles read their precomputed row; the rest are searched.
            "neighbour_table_rows": len(hoods.table) if hoods.table else 0,
            "changed_since_table": len(hoods.fresh()[0]),
            # Related's content gate: the calibrated cosine floor (None: too few articles).
            "related_floor": round(state.gate.floor, 4)
            if math.isfinite(state.gate.floor)
            else None,
            # More like this's lower floor (None: too few articles, or switched off).
            "more_like_this_floor": round(state.gate.more_floor, 4)
            if math.isfinite(state.gate.more_floor)
            else None,
            "index_created_at": created.isoformat() if created else None,
            "index_age_seconds": (datetime.now(UTC) - created).total_seconds() if created else None,
            "events": events,
            "overrides_in_force": len(state.rules.overrides),
        }


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The lists chosen for one source, before they are dressed as items."""

    source: ArticleRecord | None
    sources: set[int]
    source_text: tuple[str, str] | None
    more: list[Entry]
    related: list[Entry]
    popular: list[Entry]
    missing: tuple[str, ...]
    short: dict[str, str]
