"""The one interface every vector index implements, and the registry of index kinds."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final, Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.flat import FlatIndex
from index.hnsw import HNSWIndex

__all__ = ["INDEX_KINDS", "VectorIndex", "make_index"]


@runtime_checkable
class VectorIndex(Protocol):
    """A set of L2-normalised float32 vectors keyed by int64 doc ids, searched by inner product.

    Searches may run concurrently with each other; mutation (add/remove) must not overlap with
    anything else, which callers get by building a new index and swapping the reference.
    """

    kind: ClassVar[str]

    def __init__(self, dim: int, **params: Any) -> None: ...

    @property
    def dim(self) -> int:
        """Dimension of the stored vectors."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """Construction parameters, JSON-serialisable, as recorded in a manifest."""
        ...

    def __len__(self) -> int:
        """Number of live (searchable) vectors."""
        ...

    def add(self, doc_ids: npt.NDArray[Any], vectors: npt.NDArray[Any]) -> None:
        """Add int64 `doc_ids` with float32 (n, dim) unit `vectors`; an existing id is replaced."""
        ...

    def remove(self, doc_ids: npt.NDArray[Any]) -> None:
        """Remove `doc_ids`; ids that are not present are ignored."""
        ...

    def search(
        self, queries: npt.NDArray[Any], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Return (m, k) ids padded with -1 and (m, k) inner-product scores padded with -inf."""
        ...

    def reconstruct(self, doc_ids: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """Return the stored (n, dim) vectors; KeyError naming the first id not present."""
        ...

    def contains(self, doc_id: int) -> bool:
        """Whether `doc_id` is live in the index."""
        ...

    def save(self, path: Path) -> None:
        """Write the index file(s) into the existing directory `path`."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read an index written by `save` from directory `path` (IndexLoadError if damaged)."""
        ...


INDEX_KINDS: Final[Mapping[str, type[VectorIndex]]] = MappingProxyType(
    {FlatIndex.kind: FlatIndex, HNSWIndex.kind: HNSWIndex}
)


def make_index(kind: str, dim: int, **params: Any) -> VectorIndex:
    """Create an empty index of the registered `kind` with vectors of dimension `dim`.

    Raises ValueError for an unknown kind, an unknown parameter name, or a bad value.
    """
    try:
        cls = INDEX_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(INDEX_KINDS))
        raise ValueError(f"unknown index kind {kind!r}; known kinds: {known}") from None
    try:
        # Binding first turns a misspelt parameter into a ValueError naming it, instead of a
        # TypeError from deep inside the constructor.
        inspect.signature(cls).bind(dim, **params)
    except TypeError as exc:
        raise ValueError(f"index kind {kind!r}: {exc}") from None
    return cls(dim, **params)
