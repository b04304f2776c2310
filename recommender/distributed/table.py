"""The neighbour table on Ray: :func:`recommender.signals.neighbourhood.build_table`, its rows
split into parts that Ray tasks compute.

How the build is split, and why:

1. **First pass** (each row's pool searched in the index, its BM25 against the pool, its
   neighbourhood): nearly all of the work, and a row needs only the index and the lexical
   index. One task per part of the rows.
2. **Augmentation**: a row's augmented vector is made from its neighbours' vectors, which may
   sit in any part. The driver does it once for every row from the parts' neighbourhoods (a
   gather and a mean per row, a small share of the time), since the next pass needs them all.
3. **Second pass** (each pool re-ranked by augmented cosine): a row needs the augmented vector
   of any article of its pool, so every task reads all of them, from the object store. One
   task per part again; the first pass's pools go from task to task without passing through
   the driver.

The index, the lexical index and the vectors travel through Ray's object store, put once (one
copy per node, read by the node's tasks): no task reads a path, so any cluster will do. Each
task opens (deserialises) the index once.

The table equals the in-process one: each part searches the index in the in-process build's
batches (:func:`~recommender.signals.neighbourhood.near_rows`), and every row is computed by the
same functions.

Faults: a task whose worker dies is run again by Ray (``max_retries``); a task's result is
only ever seen whole (an object is readable once sealed), and the table is published by the
index store atomically.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from index import VectorIndex
from recommender.distributed.placement import where
from recommender.distributed.runtime import cluster_cpus
from recommender.signals.lexical import LexicalIndex
from recommender.signals.neighbourhood import (
    NearRows,
    NeighbourTable,
    RankedRows,
    TableShape,
    assemble_table,
    augment_rows,
    build_table,
    near_rows,
    pool_size,
    rank_rows,
    row_parts,
    table_rows,
)

__all__ = ["RETRIES", "build_table_on_ray"]

#: Times Ray runs a task again whose worker died (killed, out of memory) before giving up.
RETRIES = 3

_log = logging.getLogger(__name__)


def build_table_on_ray(
    index: VectorIndex,
    doc_ids: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    lexical: LexicalIndex,
    *,
    seq: int,
    shape: TableShape,
    parts: int | None = None,
) -> NeighbourTable:
    """The table :func:`~recommender.signals.neighbourhood.build_table` computes, on the Ray
    this process is connected to (see :func:`recommender.distributed.runtime.ray_session`).

    ``parts`` is how many parts the rows are split into (default: one per CPU of the cluster).

    Raises:
        ValueError: ``parts`` is not positive.
    """
    import ray

    if len(doc_ids) == 0:
        return build_table(index, doc_ids, vectors, lexical, seq=seq, shape=shape)
    sources, vectors = table_rows(doc_ids, vectors)
    pool = pool_size(len(sources), shape)
    spans = row_parts(len(sources), parts if parts is not None else cluster_cpus())
    # Typed loosely: Ray types a task of two returns as returning one tuple.
    first: Any = ray.remote(_first_pass).options(num_returns=2, max_retries=RETRIES)
    second = ray.remote(_second_pass).options(max_retries=RETRIES)
    index_ref, lexical_ref = ray.put(index), ray.put(lexical)
    sources_ref, vectors_ref = ray.put(sources), ray.put(vectors)
    near_refs: list[Any] = []
    hood_refs: list[Any] = []
    for span in spans:
        near_ref, hood_ref = first.remote(
            index_ref, lexical_ref, sources_ref, vectors_ref, span, pool, shape
        )
        near_refs.append(near_ref)
        hood_refs.append(hood_ref)
    hoods: list[tuple[npt.NDArray[np.int32], str]] = ray.get(hood_refs)
    hood = np.concatenate([part for part, _ in hoods])
    augmented_all = augment_rows(sources, vectors, hood, shape.beta)
    augmented_ref = ray.put(augmented_all)
    depth = min(shape.depth, pool)
    ranked_refs = [
        second.remote(sources_ref, augmented_ref, start, near_ref, depth)
        for (start, _), near_ref in zip(spans, near_refs, strict=True)
    ]
    ranked: list[RankedRows] = ray.get(ranked_refs)
    whole = RankedRows(
        np.concatenate([part.docs for part in ranked]),
        np.concatenate([part.cosine for part in ranked]),
        np.concatenate([part.lexical for part in ranked]),
    )
    _log.info("neighbour table on Ray: %s", where(len(spans), "part", {n for _, n in hoods}))
    return assemble_table(sources, hood, whole, augmented_all, seq)


def _first_pass(
    index: VectorIndex,
    lexical: LexicalIndex,
    sources: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    rows: tuple[int, int],
    pool: int,
    shape: TableShape,
) -> tuple[NearRows, tuple[npt.NDArray[np.int32], str]]:
    # The neighbourhoods go to the driver as an object of their own, so that the pools (the
    # bulk) need not; with the node that computed them, to say where the work ran.
    import ray

    near = near_rows(index, sources, vectors, lexical, pool=pool, shape=shape, rows=rows)
    return near, (near.hood, str(ray.get_runtime_context().get_node_id()))


def _second_pass(
    sources: npt.NDArray[np.int64],
    augmented_all: npt.NDArray[np.float32],
    start: int,
    near: NearRows,
    depth: int,
) -> RankedRows:
    return rank_rows(sources, augmented_all, start, near, depth=depth)
