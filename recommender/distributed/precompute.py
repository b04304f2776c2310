"""``newsrec precompute`` on Ray: the same JSON lines, written by a pool of Ray actors.

Each actor opens the home's published version once (:class:`~recommender.serving.engine.Engine`:
the index, and the neighbour table memory-mapped from the store's files) and turns batches of
articles into lines with the in-process path's own code
(:func:`recommender.operations.precompute.write_lists`). Actors rather than one task per part,
because opening the engine costs seconds: an actor opens it once and then takes batch after
batch, so the work stays spread evenly whatever the batches cost. The home must therefore be on
storage every node can read, as it is for the serving nodes: one machine, or a shared
filesystem.

The lines come back through the object store, batch by batch in doc id order, and this process
writes the file atomically (:func:`~recommender.operations.precompute.write_joined`). Every
actor must answer from the same index version; a publish in the middle of the run fails it
rather than mix two versions in one file.

Faults: an actor whose process dies is started again by Ray, opens the engine again, and the
batch it was writing is retried (``max_restarts``, ``max_task_retries``); a batch's lines are
only ever seen whole.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.distributed.placement import where
from recommender.distributed.runtime import cluster_cpus
from recommender.experiments.tokens import RecommendationIds
from recommender.operations.precompute import (
    BATCH,
    PrecomputeReport,
    PrecomputeRun,
    check_sizes,
    write_joined,
    write_lists,
)
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.serving.threads import one_thread_per_request
from recommender.settings import Settings

__all__ = ["RETRIES", "IndexChangedError", "precompute_on_ray"]

#: Times Ray starts an actor again whose process died, and retries the batch it was writing.
RETRIES = 3

_log = logging.getLogger(__name__)


class IndexChangedError(RuntimeError):
    """A new index version was published while a precompute ran on Ray."""


def precompute_on_ray(
    settings: Settings,
    out: Path,
    request: ListRequest | None = None,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    workers: int | None = None,
    ids: RecommendationIds | None = None,
) -> PrecomputeReport:
    """Write what :func:`recommender.operations.precompute.precompute` writes for the home of
    ``settings``, on the Ray this process is connected to (see
    :func:`recommender.distributed.runtime.ray_session`).

    ``workers`` is the number of actors (default: one per CPU of the cluster); the other
    arguments are the in-process path's.

    Raises:
        ValueError: ``batch`` or ``workers`` is not positive.
        IndexChangedError: the home published a new index version during the run.
        OSError: ``out`` cannot be written.
    """
    import ray
    from ray.util import ActorPool

    check_sizes(batch, workers)
    started = time.perf_counter()
    run = PrecomputeRun.start(request or ListRequest(), ids)
    # Sent as values, which a worker's Settings reads as any other (a worker of a newer
    # newsrec gives a new setting its default); with the home in full, since a worker's
    # working directory is not this process's.
    values = settings.model_dump() | {"home": settings.home.resolve()}
    actor: Any = ray.remote(_ListWriter).options(
        num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES
    )
    actors = [actor.remote(values, run) for _ in range(workers or cluster_cpus())]
    try:
        docs: npt.NDArray[np.int64] = ray.get(actors[0].docs.remote())[:limit]
        chunks = [docs[start : start + batch] for start in range(0, len(docs), batch)]
        versions = ray.get([a.version.remote() for a in actors])
        if len(set(versions)) > 1:
            raise IndexChangedError(_changed(versions))
        nodes = set(ray.get([a.node.remote() for a in actors]))
        written = 0

        def lines() -> Iterator[bytes]:
            nonlocal written
            pool = ActorPool(actors)
            for part, count, version in pool.map(lambda a, c: a.write.remote(c), chunks):
                if version != versions[0]:
                    raise IndexChangedError(_changed([versions[0], version]))
                written += count
                yield part

        sha256 = write_joined(out, lines())
    finally:
        for each in actors:
            ray.kill(each)
    _log.info("precompute on Ray: %s", where(len(actors), "worker", nodes))
    return PrecomputeReport(out, written, time.perf_counter() - started, versions[0], sha256)


def _changed(versions: list[str]) -> str:
    return (
        f"the index changed during the precompute ({' then '.join(sorted(set(versions)))}); "
        "run it again"
    )


class _ListWriter:
    """One Ray actor: the home's engine, opened once, writing batches of lines."""

    def __init__(self, settings: dict[str, Any], run: PrecomputeRun) -> None:
        one_thread_per_request()  # as the in-process path: one list, one thread
        self._engine = Engine(Settings.model_validate(settings))
        self._run = run

    def docs(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self._engine.columns.live).astype(np.int64)

    def version(self) -> str:
        return self._engine.index_version

    def node(self) -> str:
        import ray

        return str(ray.get_runtime_context().get_node_id())

    def write(self, docs: npt.NDArray[np.int64]) -> tuple[bytes, int, str]:
        buffer = io.BytesIO()
        count, version = write_lists(self._engine, docs, buffer, self._run)
        return buffer.getvalue(), count, version
