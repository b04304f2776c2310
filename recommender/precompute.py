"""``newsrec precompute``: both lists of every published article, one JSON line each.

For caches and CDNs that serve lists without asking the engine. Each line is exactly what
``GET /articles/{id}/related`` answers for that article (:func:`recommender.views.lists_view`),
made by the engine's own list code; the only difference from serving is speed: the index is
searched for a whole batch of sources at once (many threads), not one request at a time.

The file is written under a temporary name and renamed into place when complete, so a reader
never sees half a file; a ``.gz`` name is written gzip-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from recommender.engine import Engine
from recommender.requests import ListRequest
from recommender.views import lists_view

__all__ = ["PrecomputeReport", "precompute"]

#: Sources whose neighbours are searched together; large enough for the index to use every
#: core, small enough that a batch's candidates stay a few MB.
BATCH = 2_048


@dataclass(frozen=True, slots=True)
class PrecomputeReport:
    """What a precompute wrote."""

    path: Path
    articles: int
    seconds: float
    index_version: str
    sha256: str

    @property
    def per_second(self) -> float:
        """Articles written per second."""
        return self.articles / self.seconds if self.seconds > 0 else float("inf")


def _open(path: Path, *, compress: bool) -> gzip.GzipFile | BinaryIO:
    if compress:
        # Level 1: the lists are written faster than gzip could squeeze them at level 9.
        return gzip.GzipFile(path, "wb", compresslevel=1)
    return path.open("wb")


def _batches(docs: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(docs), size):
        yield docs[start : start + size]


def precompute(
    engine: Engine,
    out: Path,
    request: ListRequest | None = None,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    progress: bool = False,
) -> PrecomputeReport:
    """Write both lists of every published article in ``engine`` to ``out`` as JSON lines.

    ``limit`` stops after that many articles (the first by doc id), e.g. to time a sample.

    Raises:
        ValueError: ``batch`` is not positive.
        OSError: ``out`` cannot be written (its folder is created if missing).
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of articles, got {batch}")
    request = request or ListRequest()
    started = time.perf_counter()
    docs = np.flatnonzero(engine.columns.live).astype(np.int64)[:limit]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    digest = hashlib.sha256()
    written = 0
    version = engine.index_version
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(docs), desc="precompute", unit="article")
    try:
        with _open(tmp, compress=out.suffix == ".gz") as handle:
            for chunk in _batches(docs, batch):
                sources = engine.catalogue.get_by_doc_ids(chunk.tolist())
                for lists in engine.related_batch(sources, request):
                    line = json.dumps(
                        lists_view(lists, explain=request.explain),
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    data = line.encode("utf-8") + b"\n"
                    handle.write(data)
                    digest.update(data)
                    written += 1
                    version = lists.index_version
                if bar is not None:
                    bar.update(len(chunk))
            handle.flush()
        with tmp.open("rb") as synced:
            os.fsync(synced.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return PrecomputeReport(
        out, written, time.perf_counter() - started, version, digest.hexdigest()
    )
