"""Exact inner-product search over every stored vector (faiss IndexFlatIP behind an id map)."""

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

__all__ = ["FlatIndex"]

_FILE = "vectors.faiss"


class FlatIndex:
    """Brute-force exact search; the right choice up to a few hundred thousand articles."""

    kind: ClassVar[str] = "flat"

    def __init__(self, dim: int) -> None:
        """Create an empty index for vectors of dimension `dim`."""
        self._dim = check_dim(dim)
        # IndexIDMap2 (not IndexIDMap) keeps a reverse map, which reconstruct-by-id needs.
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(self._dim))

    @property
    def dim(self) -> int:
        """Dimension of the stored vectors."""
        return self._dim

    @property
    def params(self) -> dict[str, Any]:
        """Construction parameters (none for a flat index)."""
        return {}

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __repr__(self) -> str:
        return f"FlatIndex(dim={self._dim}, len={len(self)})"

    def add(self, doc_ids: npt.NDArray[Any], vectors: npt.NDArray[Any]) -> None:
        """Add unit vectors under `doc_ids`, replacing any vector already stored for an id."""
        ids = as_doc_ids(doc_ids)
        vecs = as_vectors(vectors, self._dim)
        check_rows_match(ids, vecs)
        check_unique(ids)
        check_normalised(vecs, ids)
        if ids.size == 0:
            return
        present = ids[np.isin(ids, self._stored_ids())]
        if present.size:
            self._index.remove_ids(present)
        self._index.add_with_ids(vecs, ids)

    def remove(self, doc_ids: npt.NDArray[Any]) -> None:
        """Remove `doc_ids`; ids that are not present are ignored."""
        ids = as_doc_ids(doc_ids)
        if ids.size:
            self._index.remove_ids(ids)

    def search(
        self, queries: npt.NDArray[Any], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Return the `k` best ids and scores per query row, padded with -1 / -inf."""
        q = as_vectors(queries, self._dim, what="queries")
        k = as_k(k)
        ids = np.full((q.shape[0], k), -1, dtype=np.int64)
        scores = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
        # Asking faiss for more than it holds would only allocate padding we overwrite anyway.
        fetch = min(k, len(self))
        if fetch == 0 or q.shape[0] == 0:
            return ids, scores
        # One query runs on one thread (spreading it over cores costs more in hand-offs than
        # it saves, and requests run side by side anyway); a batch uses every core.
        faiss.omp_set_num_threads(1 if q.shape[0] == 1 else os.cpu_count() or 1)
        found_scores, found_ids = self._index.search(q, fetch)
        found_ids = np.asarray(found_ids, dtype=np.int64)
        ids[:, :fetch] = found_ids
        scores[:, :fetch] = np.where(found_ids >= 0, found_scores, -np.inf)
        return ids, scores

    def reconstruct(self, doc_ids: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """Return the stored vectors for `doc_ids`; KeyError naming the first missing id."""
        ids = as_doc_ids(doc_ids)
        if ids.size == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        try:
            # One call for the batch (an id lookup per row in C++), not one call per id.
            return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)
        except RuntimeError:
            pass
        for doc_id in ids.tolist():
            if not self.contains(doc_id):
                raise KeyError(f"doc_id {doc_id} is not in the index")
        raise KeyError(f"doc_ids {ids.tolist()[:5]} cannot be read back from the index")

    def contains(self, doc_id: int) -> bool:
        """Whether `doc_id` is stored."""
        if doc_id < 0:
            return False
        try:
            self._index.reconstruct(int(doc_id))
        except RuntimeError:
            return False
        return True

    def save(self, path: Path) -> None:
        """Write `vectors.faiss` into the existing directory `path`."""
        write_faiss(self._index, path, _FILE)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read an index saved by `save` from directory `path`."""
        file = path / _FILE
        raw = read_faiss(file)
        inner = faiss.downcast_index(raw.index) if isinstance(raw, faiss.IndexIDMap2) else None
        if not isinstance(inner, faiss.IndexFlatIP):
            raise IndexLoadError(
                f"{file}: holds a {type(raw).__name__}, expected IndexIDMap2(IndexFlatIP)"
            )
        obj = cls(int(raw.d))
        obj._index = raw
        return obj

    def _stored_ids(self) -> npt.NDArray[np.int64]:
        return np.asarray(faiss.vector_to_array(self._index.id_map), dtype=np.int64)
