"""Keeping the published vector index in step with the catalogue, with the right kind for its size.

Which kind: exact search (``flat``) answers a query by scanning every vector, which costs about
0.07 ms per thousand articles on one core here, so past ``hnsw_threshold`` articles an HNSW
graph answers instead, at a recall@10 of 0.99+ against exact search on real headlines
(BENCHMARKS.md). ``index_kind`` forces either.

How it stays current: publishing replays the catalogue's change log onto the version already
published instead of building from scratch, because an HNSW build over 100k articles takes
minutes while a replay of a few changes takes milliseconds. Deletions and replaced vectors are
tombstones in an HNSW graph (it cannot delete); once they exceed ``rebuild_tombstone_ratio`` of
its nodes, or the catalogue has crossed ``hnsw_threshold``, the next publish rebuilds from the
catalogue. ``newsrec reindex`` always rebuilds.

Each version also carries the neighbour table of :mod:`recommender.signals.neighbourhood`. A publish
that updates the index in place keeps the table it had (the engine scores articles changed
since on the fly) until more than ``table_refresh_ratio`` of the articles have changed since it
was computed; then, and on every rebuild, the table is computed afresh.

With a shared index store (``store_url``), the builder first fetches the version replicas
serve, so that it updates that one, and pushes each version it publishes to the store, from
which every replica fetches it (:mod:`index.shared_store`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from index import (
    ArticleRecord,
    Catalogue,
    HNSWIndex,
    IndexLoadError,
    IndexStore,
    IndexVersion,
    StorageError,
    VectorIndex,
    make_index,
)
from index.shared_store import SharedStore, fetch, publish_to
from recommender.settings import Settings
from recommender.signals.lexical import LEAD_CHARS, LexicalIndex
from recommender.signals.neighbourhood import NeighbourTable, TableShape, build_table

if TYPE_CHECKING:  # Ray is optional: recommender.distributed is imported only when asked for
    from recommender.distributed.runtime import RayTarget

__all__ = [
    "Replay",
    "build_index",
    "fetch_before_serving",
    "fetch_from_store",
    "index_kind_for",
    "index_params",
    "publish_if_behind",
    "publish_index",
    "rebuild_due",
    "replay_changes",
    "table_shape",
]


_log = logging.getLogger("newsrec.indexing")


def index_kind_for(count: int, settings: Settings) -> str:
    """The index kind for a catalogue of ``count`` articles: the setting, or by size if auto."""
    if settings.index_kind != "auto":
        return settings.index_kind
    return "hnsw" if count >= settings.hnsw_threshold else "flat"


def index_params(kind: str, settings: Settings) -> dict[str, Any]:
    """The construction parameters the settings give an index of ``kind``."""
    if kind == "hnsw":
        return {
            "M": settings.hnsw_m,
            "ef_construction": settings.hnsw_ef_construction,
            "ef_search": settings.hnsw_ef_search,
            "storage": settings.hnsw_storage,
        }
    return {}


def table_shape(settings: Settings) -> TableShape:
    """How the settings say neighbourhoods are made."""
    return TableShape(
        neighbours=settings.neighbours,
        beta=settings.augment_beta,
        hood_blend=settings.hood_blend,
        pool=settings.candidates,
        depth=settings.table_depth,
    )


def neighbour_table(
    index: VectorIndex,
    catalogue: Catalogue,
    seq: int,
    settings: Settings,
    *,
    ray: RayTarget | None = None,
) -> NeighbourTable:
    """Compute the neighbour table of every article in ``index`` (reflecting change ``seq``),
    in this process or, given ``ray``, on Ray (the same table; see
    :mod:`recommender.distributed.table`).

    Raises:
        recommender.distributed.runtime.RayUnavailable: ``ray`` given, Ray not installed.
        recommender.distributed.runtime.RayConnectError: ``ray``'s cluster cannot be reached.
    """
    lexical = LexicalIndex()
    docs: list[int] = []
    words: list[tuple[int, str, str]] = []
    for record in catalogue.iter_records():
        if index.contains(record.doc_id):
            docs.append(record.doc_id)
            words.append((record.doc_id, record.title, record.body[:LEAD_CHARS]))
    lexical.put_many(words)
    ids = np.array(docs, dtype=np.int64)
    vectors = index.reconstruct(ids) if len(ids) else np.zeros((0, index.dim), np.float32)
    if ray is None:
        return build_table(index, ids, vectors, lexical, seq=seq, shape=table_shape(settings))
    from recommender.distributed.runtime import ray_session
    from recommender.distributed.table import build_table_on_ray

    with ray_session(ray):
        return build_table_on_ray(
            index, ids, vectors, lexical, seq=seq, shape=table_shape(settings)
        )


def _kept_table(
    current: IndexVersion, store: IndexStore, catalogue: Catalogue, settings: Settings
) -> NeighbourTable | None:
    """The current version's table, if it was made the same way and few articles changed since."""
    try:
        table = NeighbourTable.from_arrays(store.extras(current))
    except (IndexLoadError, ValueError):
        return None
    if table is None or current.manifest.params.get("table") != _table_params(settings):
        return None
    if table.vectors is None and table.hood.shape[1]:
        return None  # made before tables stored augmented vectors: make it again, with them
    changed = {change.doc_id for change in catalogue.changes_since(table.seq)}
    if len(changed) > settings.table_refresh_ratio * max(len(table), 1):
        return None
    return table


def _table_params(settings: Settings) -> dict[str, Any]:
    return dataclasses.asdict(table_shape(settings))


def rebuild_due(index: VectorIndex, settings: Settings) -> bool:
    """Whether ``index`` should be rebuilt from the catalogue rather than updated in place.

    True when deleted or replaced vectors (tombstones) make up more than
    ``rebuild_tombstone_ratio`` of an HNSW graph, or when the index is not of the kind its
    size calls for now.
    """
    if index.kind != index_kind_for(len(index), settings):
        return True
    return isinstance(index, HNSWIndex) and index.tombstone_ratio > settings.rebuild_tombstone_ratio


def build_index(catalogue: Catalogue, settings: Settings) -> tuple[VectorIndex, int]:
    """Build a fresh index over every published article's stored vector.

    Returns the index and the catalogue change number it reflects. The number is read before
    the vectors, so a change racing with the build is replayed later (replays are idempotent).
    """
    seq = catalogue.last_seq()
    doc_ids, vectors = catalogue.vectors()
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else (catalogue.dim or 1)
    kind = index_kind_for(len(doc_ids), settings)
    index = make_index(kind, dim, **index_params(kind, settings))
    if len(doc_ids):
        index.add(doc_ids, vectors)
    return index, seq


@dataclass(frozen=True, slots=True)
class Replay:
    """What replaying the catalogue's changes did to an index."""

    last_seq: int  # the last change applied (``since`` when there was none)
    count: int  # how many changes there were
    index: VectorIndex | None  # the index (made when there was none and vectors came)
    records: list[ArticleRecord]  # the published articles added or changed
    gone: npt.NDArray[np.int64]  # docs unpublished or deleted
    touched: npt.NDArray[np.int64]  # every doc a change named


def replay_changes(index: VectorIndex | None, catalogue: Catalogue, since: int) -> Replay:
    """Replay the catalogue changes made after ``since`` onto ``index``: the one replay of the
    change log, used by publishing and by the running engine alike.

    The latest change of each article wins: a published article's stored vector is (re)added,
    an unpublished one removed. A vector equal to the one indexed is left alone, so metadata
    edits leave no tombstones. With no index yet, an exact one is made for the first vectors.
    Replaying a change twice is harmless, so racing writers are safe.
    """
    net = catalogue.net_changes(since)
    none = np.zeros(0, dtype=np.int64)
    if not net.count:
        return Replay(since, 0, index, [], none, none)
    records = catalogue.get_by_doc_ids(net.upserted) if net.upserted else []
    live = [r.doc_id for r in records]
    ids, vectors = catalogue.vectors(live) if live else (none, None)
    gone = np.array(sorted({*net.deleted} | (set(net.upserted) - set(ids.tolist()))), np.int64)
    if vectors is not None and len(ids):
        if index is None:
            index = make_index("flat", vectors.shape[1])
        known = np.array([index.contains(int(doc)) for doc in ids.tolist()], dtype=bool)
        same = np.zeros(len(ids), dtype=bool)
        if known.any():
            stored = index.reconstruct(ids[known])
            same[known] = np.all(stored == vectors[known], axis=1)
        if not same.all():
            index.add(ids[~same], vectors[~same])
    if len(gone) and index is not None:
        index.remove(gone)
    return Replay(
        net.last_seq, net.count, index, records, gone, np.array(net.touched(), dtype=np.int64)
    )


def _updated_current(
    catalogue: Catalogue, store: IndexStore, settings: Settings
) -> tuple[VectorIndex, int, IndexVersion] | None:
    """The published index brought up to date with the catalogue, or None if it must be rebuilt."""
    try:
        current = store.current()
        if current is None or current.manifest.model != settings.model:
            return None
        kind = current.manifest.kind
        wanted = index_params(kind, settings)
        # Another storage is taken at the next rebuild (`newsrec reindex`), not forced on an
        # update: rebuilding a large index for it is the operator's call.
        if any(
            key not in ("ef_search", "storage") and current.manifest.params.get(key) != value
            for key, value in wanted.items()
        ):
            return None
        index, version = store.load(current, expect_model=settings.model)
    except IndexLoadError:
        return None  # a damaged or unreadable version is replaced by a fresh build
    if isinstance(index, HNSWIndex):
        index.ef_search = settings.hnsw_ef_search
    seq = replay_changes(index, catalogue, version.manifest.catalogue_seq).last_seq
    if rebuild_due(index, settings):
        return None
    return index, seq, version


def publish_index(
    catalogue: Catalogue,
    store: IndexStore,
    settings: Settings,
    *,
    rebuild: bool = False,
    ray: RayTarget | None = None,
) -> IndexVersion:
    """Bring the index up to date with the catalogue and publish it atomically as a new version.

    The current version is updated in place from the change log unless ``rebuild`` is set, it
    cannot be loaded, it was built with other settings, or :func:`rebuild_due` says so; then
    the index is built afresh from the catalogue. A new neighbour table is computed on Ray if
    ``ray`` is given (see :func:`neighbour_table`); nothing is published if that fails.

    With ``settings.store_url`` set, the shared store's current version is fetched first (if it
    cannot be, the index is rebuilt) and the new version is pushed to the store afterwards;
    the caller holds the writer lock, so one builder publishes at a time.

    Raises:
        StorageError: the new version could not be pushed to the shared store (it is
            published locally; the next publish pushes a newer one).
    """
    shared = SharedStore(settings.store_url) if settings.store_url else None
    if shared is not None and not rebuild:
        try:
            fetch(shared, store)
        except StorageError as exc:
            _log.warning("rebuilding the index: cannot fetch the shared version: %s", exc)
            rebuild = True
    updated = None if rebuild else _updated_current(catalogue, store, settings)
    table: NeighbourTable | None = None
    if updated is not None:
        index, seq, current = updated
        table = _kept_table(current, store, catalogue, settings)
    else:
        index, seq = build_index(catalogue, settings)
    if table is None:
        table = neighbour_table(index, catalogue, seq, settings, ray=ray)
    version = store.publish(
        index,
        model=settings.model,
        catalogue_seq=seq,
        params={"max_seq_length": settings.max_seq_length, "table": _table_params(settings)},
        extras=table.to_arrays(),
    )
    store.prune(keep=3)
    if shared is not None:
        publish_to(shared, store, version)
    return version


def fetch_from_store(settings: Settings) -> IndexVersion | None:
    """Bring the home's index to the version the shared store (``settings.store_url``) serves.

    A replica calls it before it starts serving: the engine loads from the home's index, which
    is empty on a new machine. Returns the version made current, or None when there was
    nothing to do (no store set, nothing shared yet, or the home already has it).

    Raises:
        StorageError: the version could not be fetched or failed its checks (named in the
            message); the home's index is unchanged.
    """
    if not settings.store_url:
        return None
    return fetch(
        SharedStore(settings.store_url),
        IndexStore(settings.index_root),
        expect_model=settings.model,
    )


def fetch_before_serving(settings: Settings) -> tuple[IndexVersion | None, StorageError | None]:
    """Fetch the store's version before a replica serves; tolerate an unreachable store only
    when the home already has a version to serve.

    A new replica's home is empty: without the store's version first, the engine would build
    every list by searching the catalogue until the fetch thread caught up (and ``newsrec
    serve``'s check of the home would do the same work once more).

    Returns:
        The version fetched (None: nothing new), and the store's error when it could not be
        reached but the home serves a version of its own.

    Raises:
        StorageError: the store cannot be read and the home has no version to serve.
    """
    try:
        return fetch_from_store(settings), None
    except StorageError as exc:
        if IndexStore(settings.index_root).current() is None:
            raise
        return None, exc


def publish_if_behind(
    catalogue: Catalogue,
    settings: Settings,
    *,
    changed: bool,
    publish: bool = True,
    ray: RayTarget | None = None,
) -> str | None:
    """After an ingest: publish a new version if the published index lags the catalogue, and
    return the name of the version that answers now (None: nothing published yet).

    Whenever it lags, not only after new vectors (``changed``): a run killed after landing
    rows but before publishing leaves such a lag, and its rerun, which finds every row
    unchanged, must still complete the work. ``publish`` False only reports the current one.
    """
    store = IndexStore(settings.index_root)
    try:
        current = store.current()
    except IndexLoadError:
        current = None  # a damaged CURRENT is replaced by the fresh publish below
    behind = changed or (
        catalogue.count() > 0
        and (current is None or current.manifest.catalogue_seq < catalogue.last_seq())
    )
    if publish and behind:
        return publish_index(catalogue, store, settings, ray=ray).name
    return current.name if current is not None else None
