"""Approximate inner-product search with a faiss HNSW graph, plus tombstones for deletion.

HNSW graphs cannot delete, so every vector ever added keeps its faiss label (its position);
`_labels` maps label -> doc_id and `_dead` marks labels that were removed or replaced. Searches
over-fetch and drop dead labels. When `tombstone_ratio` grows, callers rebuild (`compact()`
or a fresh build from the catalogue).

Where the vectors live (`storage`):

- ``float32``: inside the graph, in memory (``IndexHNSWFlat``): 4 bytes a dimension.
- ``sq8``: the graph walks 8-bit scalar-quantised codes held in memory (``IndexHNSWSQ``, one
  byte a dimension); the exact float32 vectors sit beside it in ``exact.npy``, memory-mapped
  (:class:`index.rows.VectorRows`). A search asks the graph for a few more candidates than
  wanted and rescores them with the exact vectors, so its scores are exact inner products and
  its ranking is the exact ranking of the candidates; ``reconstruct`` returns exact vectors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Self

import faiss
import numpy as np
import numpy.typing as npt

from index.arrays import (
    as_doc_ids,
    as_k,
    as_vectors,
    check_dim,
    check_normalised,
    check_rows_match,
    check_unique,
)
from index.errors import IndexLoadError
from index.faissio import read_faiss, write_faiss
from index.rows import VectorRows

__all__ = ["STORAGES", "HNSWIndex"]

_FILE = "vectors.faiss"
_IDS_FILE = "ids.npy"
_TOMBSTONES_FILE = "tombstones.npy"
_EXACT_FILE = "exact.npy"

#: Where the vectors live: see the module docstring.
STORAGES = ("float32", "sq8")

# First over-fetch margin when tombstones are many: fetching k + every tombstone would make one
# query as costly as a scan, so start with a bounded margin and widen only for short rows.
_MIN_MARGIN = 64

# With sq8, the graph's order is that of approximate scores: rows near the k-th may swap with
# rows just past it. Asking for a few more (an eighth, at least 16) and rescoring them exactly
# puts them back in place; BENCHMARKS.md gives the recall it reaches.
_RESCORE_SHARE = 8
_RESCORE_MIN = 16
# Query rows rescored at once: bounds the (rows, candidates, dim) block read from the vectors.
_RESCORE_ROWS = 64
# The 8-bit codes' range of each dimension is trained on the first vectors added when there
# are enough of them to show it; fewer get the whole range a unit vector's component can take.
_MIN_TRAIN = 1_000
# faiss's stubs type the quantizer kinds as int where its constructors take them as they are.
_SQ8: Any = faiss.ScalarQuantizer.QT_8bit


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"HNSW parameter {name} must be a positive integer, got {value!r}")
    return int(value)


class HNSWIndex:
    """Approximate search for large collections; deletions are tombstones until a rebuild."""

    kind: ClassVar[str] = "hnsw"

    def __init__(
        self,
        dim: int,
        *,
        M: int = 32,  # noqa: N803 - the name used by faiss and the HNSW paper
        ef_construction: int = 200,
        ef_search: int = 128,
        storage: str = "float32",
    ) -> None:
        """Create an empty HNSW index; `M` is graph degree, `ef_*` are beam widths, `storage`
        where the vectors live (one of :data:`STORAGES`, see the module docstring)."""
        self._dim = check_dim(dim)
        self._m = _positive_int("M", M)
        if storage not in STORAGES:
            raise ValueError(f"HNSW storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        self._storage = storage
        self._rows: VectorRows | None = None  # the exact vectors, for sq8
        if storage == "sq8":
            self._index: Any = faiss.IndexHNSWSQ(
                self._dim, _SQ8, self._m, faiss.METRIC_INNER_PRODUCT
            )
            self._rows = VectorRows(self._dim)
        else:
            self._index = faiss.IndexHNSWFlat(self._dim, self._m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = _positive_int("ef_construction", ef_construction)
        self._index.hnsw.efSearch = _positive_int("ef_search", ef_search)
        self._labels: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._dead: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)
        self._live: dict[int, int] = {}  # doc_id -> label
        self._lookup: npt.NDArray[np.int64] | None = None  # doc_id -> label, -1: none
        self._stored: npt.NDArray[np.float32] | None = None  # see _stored_vectors

    @property
    def dim(self) -> int:
        """Dimension of the stored vectors."""
        return self._dim

    @property
    def params(self) -> dict[str, Any]:
        """Construction parameters: M, ef_construction, ef_search, storage."""
        return {
            "M": self._m,
            "ef_construction": int(self._index.hnsw.efConstruction),
            "ef_search": self.ef_search,
            "storage": self._storage,
        }

    @property
    def storage(self) -> str:
        """Where the vectors live: ``float32`` (in the graph) or ``sq8`` (see the module)."""
        return self._storage

    @property
    def ef_search(self) -> int:
        """Search beam width; larger is slower and more accurate."""
        return int(self._index.hnsw.efSearch)

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._index.hnsw.efSearch = _positive_int("ef_search", value)

    @property
    def tombstone_ratio(self) -> float:
        """Fraction of graph nodes that are dead (0.0 for an empty index)."""
        total = int(self._index.ntotal)
        return (total - len(self._live)) / total if total else 0.0

    def __len__(self) -> int:
        return len(self._live)

    def __repr__(self) -> str:
        return (
            f"HNSWIndex(dim={self._dim}, len={len(self)}, "
            f"tombstone_ratio={self.tombstone_ratio:.3f}, params={self.params})"
        )

    def add(self, doc_ids: npt.NDArray[Any], vectors: npt.NDArray[Any]) -> None:
        """Add unit vectors under `doc_ids`; a replaced id's old node becomes a tombstone."""
        ids = as_doc_ids(doc_ids)
        vecs = as_vectors(vectors, self._dim)
        check_rows_match(ids, vecs)
        check_unique(ids)
        check_normalised(vecs, ids)
        if ids.size == 0:
            return
        self._tombstone(ids)
        first = int(self._index.ntotal)
        self._stored = None  # adding may move the graph's vector storage
        if self._rows is not None:
            if not self._index.is_trained:
                self._train(vecs)
            self._rows.append(vecs)
        self._index.add(vecs)
        self._labels = np.concatenate([self._labels, ids])
        self._dead = np.concatenate([self._dead, np.zeros(ids.size, dtype=np.bool_)])
        self._live.update(zip(ids.tolist(), range(first, first + ids.size), strict=True))
        self._lookup = None

    def _train(self, vecs: npt.NDArray[np.float32]) -> None:
        """Set the 8-bit codes' range of each dimension, symmetric about 0."""
        bound = np.ones(self._dim, dtype=np.float32)  # a unit vector's component: never clipped
        if len(vecs) >= _MIN_TRAIN:
            # The largest |component| seen, a tenth wider for the vectors added later.
            seen = np.abs(vecs).max(axis=0)
            bound = np.where(seen > 0, np.minimum(1.1 * seen, 1.0), 1.0).astype(np.float32)
        # Min/max training on these two corners gives each dimension exactly [-bound, +bound].
        self._index.train(np.stack([bound, -bound]))

    def remove(self, doc_ids: npt.NDArray[Any]) -> None:
        """Tombstone `doc_ids`; ids that are not present are ignored."""
        self._tombstone(as_doc_ids(doc_ids))

    def search(
        self, queries: npt.NDArray[Any], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Return the `k` best live ids and scores per query row, padded with -1 / -inf."""
        q = as_vectors(queries, self._dim, what="queries")
        k = as_k(k)
        m = q.shape[0]
        ids = np.full((m, k), -1, dtype=np.int64)
        scores = np.full((m, k), -np.inf, dtype=np.float32)
        want = min(k, len(self))
        if want == 0 or m == 0:
            return ids, scores
        total = int(self._index.ntotal)
        n_dead = total - len(self)
        fetch = min(total, want + min(n_dead, max(_MIN_MARGIN, 2 * want)))
        pending = np.arange(m)
        # One query runs on one thread (spreading it over cores costs more in hand-offs than
        # it saves, and requests run side by side anyway); a batch uses every core.
        faiss.omp_set_num_threads(1 if m == 1 else os.cpu_count() or 1)
        while pending.size:
            if self._rows is None:
                found_scores, labels = self._index.search(q[pending], fetch)
                labels = np.asarray(labels, dtype=np.int64)
            else:
                more = max(_RESCORE_MIN, fetch // _RESCORE_SHARE)
                found_scores, labels = self._rescored(
                    self._rows, q[pending], min(total, fetch + more)
                )
            safe = np.where(labels >= 0, labels, 0)
            keep = (labels >= 0) & ~self._dead[safe]
            n_kept = keep.sum(axis=1)
            # A stable sort on ~keep moves kept hits to the front and preserves score order.
            order = np.argsort(~keep, axis=1, kind="stable")[:, :want]
            rows = np.arange(pending.size)[:, None]
            hit = keep[rows, order]
            got_ids = np.where(hit, self._labels[safe[rows, order]], -1)
            got_scores = np.where(hit, found_scores[rows, order], -np.inf)
            done = (n_kept >= want) | (fetch >= total)
            ids[pending[done], :want] = got_ids[done]
            scores[pending[done], :want] = got_scores[done]
            pending = pending[~done]
            fetch = min(total, fetch * 2)
        return ids, scores

    def reconstruct(self, doc_ids: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """Return the stored vectors for `doc_ids`; KeyError naming the first missing id."""
        ids = as_doc_ids(doc_ids)
        labels = self._labels_of(ids)
        if labels.size and labels.min() < 0:
            raise KeyError(f"doc_id {int(ids[np.argmin(labels)])} is not in the index")
        if labels.size == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        if self._rows is not None:
            return self._rows.take(labels)
        return self._stored_vectors()[labels]

    def _rescored(
        self, rows: VectorRows, queries: npt.NDArray[np.float32], fetch: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The graph's ``fetch`` best labels per query, ordered by their exact inner product
        with the query (from ``rows``, the exact vectors)."""
        _, found = self._index.search(queries, fetch)
        labels = np.asarray(found, dtype=np.int64)
        scores = np.full(labels.shape, -np.inf, dtype=np.float32)
        for start in range(0, len(queries), _RESCORE_ROWS):
            block = labels[start : start + _RESCORE_ROWS]
            vectors = rows.take(np.maximum(block, 0).ravel()).reshape(*block.shape, -1)
            exact = np.einsum("ckd,cd->ck", vectors, queries[start : start + _RESCORE_ROWS])
            scores[start : start + _RESCORE_ROWS] = np.where(block >= 0, exact, -np.inf)
        # Stable, on exact scores; padding (-inf) stays last.
        order = np.argsort(-scores, axis=1, kind="stable")
        return np.take_along_axis(scores, order, 1), np.take_along_axis(labels, order, 1)

    def _stored_vectors(self) -> npt.NDArray[np.float32]:
        """The graph's stored vectors, by label, as a read-only numpy view (no copy).

        Lists read a few dozen vectors each; faiss's reconstruct_batch costs several times more
        per call than indexing this view. The view points into faiss's own buffer, so it lives
        no longer than the next ``add`` (which may move that buffer) and never leaves this class.
        """
        if self._stored is None:
            storage: Any = faiss.downcast_index(self._index.storage)
            n = int(storage.ntotal)
            if n == 0:
                return np.empty((0, self._dim), dtype=np.float32)
            view = faiss.rev_swig_ptr(storage.get_xb(), n * self._dim).reshape(n, self._dim)
            view.flags.writeable = False
            self._stored = view
        return self._stored

    def _labels_of(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The label of each doc id, -1 where it is not live; an array lookup when doc ids are
        dense enough (catalogue row ids are), else one dict lookup per id."""
        lookup = self._lookup
        if lookup is None and self._live:
            top = max(self._live)
            if top <= 4 * len(self._live) + 1_000_000:
                lookup = np.full(top + 1, -1, dtype=np.int64)
                lookup[np.fromiter(self._live.keys(), np.int64, len(self._live))] = np.fromiter(
                    self._live.values(), np.int64, len(self._live)
                )
                self._lookup = lookup
        if lookup is None:
            return np.array([self._live.get(d, -1) for d in ids.tolist()], dtype=np.int64)
        labels = np.full(ids.size, -1, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(lookup))
        labels[inside] = lookup[ids[inside]]
        return labels

    def contains(self, doc_id: int) -> bool:
        """Whether `doc_id` is live."""
        return int(doc_id) in self._live

    def compact(self) -> HNSWIndex:
        """Return a new index holding only the live vectors (same parameters, no tombstones)."""
        fresh = HNSWIndex(self._dim, **self.params)
        if self._live:
            doc_ids = np.fromiter(sorted(self._live), dtype=np.int64, count=len(self._live))
            fresh.add(doc_ids, self.reconstruct(doc_ids))
        return fresh

    def save(self, path: Path) -> None:
        """Write `vectors.faiss`, `ids.npy` and `tombstones.npy` (and, for sq8, `exact.npy`)
        into the directory `path`."""
        write_faiss(self._index, path, _FILE)
        if self._rows is not None:
            self._rows.save(path / _EXACT_FILE)
        np.save(path / _IDS_FILE, self._labels, allow_pickle=False)
        np.save(path / _TOMBSTONES_FILE, np.flatnonzero(self._dead).astype(np.int64))

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read an index saved by `save` from directory `path`."""
        file = path / _FILE
        raw = read_faiss(file)
        if isinstance(raw, faiss.IndexHNSWFlat):
            storage = "float32"
        elif isinstance(raw, faiss.IndexHNSWSQ) and (_quantizer(raw).qtype == _SQ8):
            storage = "sq8"
        else:
            raise IndexLoadError(
                f"{file}: holds a {type(raw).__name__}, expected IndexHNSWFlat or an 8-bit "
                "IndexHNSWSQ"
            )
        if raw.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexLoadError(f"{file}: HNSW graph does not use inner-product metric")
        total = int(raw.ntotal)
        labels = _load_int_array(path / _IDS_FILE)
        if labels.size != total:
            raise IndexLoadError(
                f"{path / _IDS_FILE}: holds {labels.size} ids, {file.name} holds {total} vectors"
            )
        if labels.size and int(labels.min()) < 0:
            raise IndexLoadError(f"{path / _IDS_FILE}: holds a negative doc id")
        dead_labels = _load_int_array(path / _TOMBSTONES_FILE)
        if dead_labels.size and (int(dead_labels.min()) < 0 or int(dead_labels.max()) >= total):
            raise IndexLoadError(
                f"{path / _TOMBSTONES_FILE}: tombstone outside the {total} stored vectors"
            )
        dead = np.zeros(total, dtype=np.bool_)
        dead[dead_labels] = True
        live_labels = np.flatnonzero(~dead)
        live = dict(zip(labels[live_labels].tolist(), live_labels.tolist(), strict=True))
        if len(live) != live_labels.size:
            raise IndexLoadError(f"{path / _IDS_FILE}: a live doc id appears more than once")

        graph: Any = raw.hnsw
        # Levels above 0 have exactly M neighbour slots (level 0 has 2*M).
        obj = cls(int(raw.d), M=int(graph.nb_neighbors(1)), storage=storage)
        obj._index = raw
        if storage == "sq8":
            obj._rows = VectorRows.open(path / _EXACT_FILE, int(raw.d), total)
        obj._labels = labels
        obj._dead = dead
        obj._live = live
        return obj

    def _tombstone(self, ids: npt.NDArray[np.int64]) -> None:
        self._lookup = None
        for doc_id in ids.tolist():
            label = self._live.pop(doc_id, None)
            if label is not None:
                self._dead[label] = True


def _quantizer(index: Any) -> Any:
    """The scalar quantizer of an ``IndexHNSWSQ``'s codes."""
    storage: Any = faiss.downcast_index(index.storage)
    return storage.sq


def _load_int_array(file: Path) -> npt.NDArray[np.int64]:
    if not file.is_file():
        raise IndexLoadError(f"{file}: missing")
    try:
        arr = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexLoadError(f"{file}: not a readable .npy array ({exc})") from exc
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype != np.int64:
        raise IndexLoadError(f"{file}: expected a 1-D int64 array")
    return arr
