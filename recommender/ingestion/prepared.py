"""Ingest of prepared vectors: the shards ``newsrec embed`` writes, loaded without the model.

Every shard's footer is checked before anything is written: shards of another model, input
length or dimension than the home's refuse the whole load (one line naming the shard and both
sides), so a home never mixes vectors of two models. A damaged shard is named and skipped and
its rows are counted as not loaded; the others land, and the index is published as ingest
publishes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index import Catalogue
from recommender.embedding.embedder import vector_identity
from recommender.ingestion.shards import (
    ShardError,
    ShardInfo,
    check_identity,
    read_shard,
    shard_info,
    shard_paths,
)
from recommender.operations.indexing import publish_if_behind
from recommender.operations.writer import writer_lock
from recommender.settings import Settings

if TYPE_CHECKING:  # Ray is optional: imported only when a target is given
    from recommender.distributed.runtime import RayTarget

__all__ = ["NoShards", "VectorIngestReport", "ingest_vectors"]

_CHUNK = 4096


class NoShards(ValueError):
    """The folder given holds no vector shard."""


@dataclass
class VectorIngestReport:
    """What an ingest of prepared vectors did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    shards: int = 0
    damaged: list[str] = field(default_factory=list)
    not_loaded: int = 0  # rows of damaged shards, as far as their footers tell
    seconds: float = 0.0
    index_version: str | None = None

    @property
    def loaded(self) -> int:
        """Articles read from the shards and upserted (added, updated or unchanged)."""
        return self.added + self.updated + self.unchanged


def _checked_shards(
    folder: Path, settings: Settings, report: VectorIngestReport
) -> list[ShardInfo]:
    model, key = vector_identity(settings), settings.embedding_key
    infos: list[ShardInfo] = []
    for path in shard_paths(folder):
        try:
            info = shard_info(path)
        except ShardError as exc:
            report.damaged.append(str(exc))
            continue
        first = infos[0] if infos else None
        dim_source = f"shard {first.path}" if first else ""
        check_identity(info, model, key, first.dim if first else None, dim_source)
        infos.append(info)
    return infos


def ingest_vectors(
    folder: Path,
    settings: Settings,
    *,
    lock_wait: float = 0.0,
    publish: bool = True,
    ray: RayTarget | None = None,
) -> VectorIngestReport:
    """Load the articles and vectors of the shards in ``folder`` into the home's catalogue,
    then publish a new index version (``publish``; its neighbour table on ``ray`` if given).
    The model is never loaded.

    Raises:
        NoShards: ``folder`` holds no shard.
        ShardMismatch: some shard was made by another model, input length or dimension;
            nothing was written.
        index.LockedError: another writer kept the home for ``lock_wait`` seconds.
    """
    started = time.perf_counter()
    report = VectorIngestReport()
    if not shard_paths(folder):
        raise NoShards(f"{folder}: no vector shards (*.parquet) here; make them with newsrec embed")
    # Every footer is checked before the first write: a mismatch leaves the home untouched.
    infos = _checked_shards(folder, settings, report)
    if not infos:
        report.seconds = time.perf_counter() - started
        return report
    settings.home.mkdir(parents=True, exist_ok=True)
    with (
        writer_lock(settings, wait=lock_wait, purpose="ingest --vectors"),
        Catalogue(settings.catalogue) as catalogue,
    ):
        stored_dim = catalogue.dim
        if stored_dim is not None:
            check_identity(infos[0], infos[0].model, infos[0].embedding_key, stored_dim)
        for info in infos:
            try:
                records, vectors = read_shard(info.path, info, embedding_key=settings.embedding_key)
            except ShardError as exc:
                report.damaged.append(str(exc))
                report.not_loaded += info.rows
                continue
            for start in range(0, len(records), _CHUNK):
                chunk = records[start : start + _CHUNK]
                rows = vectors[start : start + _CHUNK]
                counts = catalogue.upsert(
                    chunk, {r.id: v for r, v in zip(chunk, rows, strict=True)}
                )
                report.added += counts.added
                report.updated += counts.updated
                report.unchanged += counts.unchanged
            report.shards += 1
        report.index_version = publish_if_behind(
            catalogue, settings, changed=report.added + report.updated > 0, publish=publish, ray=ray
        )
    report.seconds = time.perf_counter() - started
    return report
