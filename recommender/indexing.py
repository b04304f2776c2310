"""Keeping the published vector index in step with the catalogue."""

from __future__ import annotations

from typing import Any

from index import Catalogue, IndexStore, IndexVersion, VectorIndex, make_index
from recommender.settings import Settings

__all__ = ["build_index", "publish_index"]


def build_index(catalogue: Catalogue, settings: Settings) -> tuple[VectorIndex, int]:
    """Build a fresh index over every published article's stored vector.

    Returns the index and the catalogue change number it reflects. The number is read before
    the vectors, so a change racing with the build is replayed later (replays are idempotent).
    """
    seq = catalogue.last_seq()
    doc_ids, vectors = catalogue.vectors()
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 0
    kind = "flat"
    params: dict[str, Any] = {}
    if dim == 0:
        dim = catalogue.dim or 1
    index = make_index(kind, dim, **params)
    if len(doc_ids):
        index.add(doc_ids, vectors)
    return index, seq


def publish_index(catalogue: Catalogue, store: IndexStore, settings: Settings) -> IndexVersion:
    """Build an index from the catalogue and publish it atomically as the new version."""
    index, seq = build_index(catalogue, settings)
    version = store.publish(
        index,
        model=settings.model,
        catalogue_seq=seq,
        params={"max_seq_length": settings.max_seq_length},
    )
    store.prune(keep=3)
    return version
