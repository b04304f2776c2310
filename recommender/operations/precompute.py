"""``newsrec precompute``: both lists of every published article, one JSON line each.

For caches and CDNs that serve lists without asking the engine. Each line is exactly what
``GET /articles/{id}/related`` answers for that article
(:func:`recommender.serving.views.lists_view`),
made by the engine's own list code. The only difference from serving is that the work is split
over ``workers`` processes (forked from the loaded engine, so its index, neighbour table and
columns are shared, not copied), each writing its share of the articles to a part file; the
parts are joined in doc id order.

Given the signer of recommendation ids (as ``newsrec precompute`` is), each line carries a
``recommendation_id`` too, variant ``default``: a click on a precomputed list counts like one
on a served list. The ids of one run share its time of issue, and each nonce is drawn from the
run's and the source's, so the file does not depend on how the work was split.

The file is written under a temporary name and renamed into place when complete, so a reader
never sees half a file; a ``.gz`` name is written gzip-compressed.

On Ray (``newsrec precompute --ray``), :mod:`recommender.distributed.precompute` writes the
same lines with the same two steps: :func:`write_lists` for each batch, :func:`write_joined`
for the file.
"""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from recommender.experiments.config import DEFAULT_VARIANT
from recommender.experiments.tokens import RecommendationIds, Trace, new_nonce
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.requests import ListRequest
from recommender.serving.threads import one_thread_per_process
from recommender.serving.views import lists_view

__all__ = [
    "PrecomputeReport",
    "PrecomputeRun",
    "check_sizes",
    "precompute",
    "write_joined",
    "write_lists",
]

#: Articles per task handed to a worker: large enough that hand-offs cost nothing, small
#: enough that the work spreads evenly and progress moves.
BATCH = 2_048


@dataclass(frozen=True, slots=True)
class PrecomputeRun:
    """What every line of one precompute shares, wherever it is written."""

    request: ListRequest
    ids: RecommendationIds | None  # signs each line's recommendation id (None: no id)
    issued_at: datetime
    nonce: str  # this run's, from which each line's is drawn

    @classmethod
    def start(cls, request: ListRequest, ids: RecommendationIds | None) -> PrecomputeRun:
        """A run issued now."""
        return cls(request, ids, datetime.now(UTC), new_nonce())


@dataclass(frozen=True, slots=True)
class _Job:
    """The precompute running in this process; forked workers inherit it."""

    engine: Engine
    run: PrecomputeRun


_JOB: _Job | None = None


@dataclass(frozen=True, slots=True)
class PrecomputeReport:
    """What a precompute wrote."""

    path: Path
    articles: int
    seconds: float
    index_version: str
    sha256: str  # of the uncompressed lines, so a .gz and a plain file of one run agree

    @property
    def per_second(self) -> float:
        """Articles written per second."""
        return self.articles / self.seconds if self.seconds > 0 else float("inf")


def _open(path: Path, *, compress: bool) -> gzip.GzipFile | BinaryIO:
    if compress:
        # Level 1: the lists are written faster than gzip could squeeze them at level 9.
        return gzip.GzipFile(path, "wb", compresslevel=1, mtime=0)
    return path.open("wb")


def _write_part(docs: np.ndarray, part: Path) -> tuple[int, str]:
    """Write the lists of ``docs`` to ``part``; returns how many and the index version."""
    job = _JOB
    assert job is not None  # set before the workers were forked
    with part.open("wb") as handle:
        return write_lists(job.engine, docs, handle, job.run)


def write_lists(
    engine: Engine, docs: np.ndarray, handle: BinaryIO, run: PrecomputeRun
) -> tuple[int, str]:
    """Write the lines of the published articles among ``docs`` to ``handle``, in order.

    Returns how many were written and the index version they come from.
    """
    request = run.request
    cards = engine.columns.cards
    sources = [cards[doc] for doc in docs.tolist() if doc in cards]
    written, version = 0, engine.index_version
    for lists in engine.lists_for_many(sources, request):
        view = lists_view(lists, explain=request.explain)
        if run.ids is not None:
            view = _stamped(view, lists, run)
        handle.write(orjson.dumps(view) + b"\n")
        written += 1
        version = lists.index_version
    return written, version


def _stamped(view: dict[str, Any], lists: RelatedLists, job: PrecomputeRun) -> dict[str, Any]:
    assert job.ids is not None and lists.source is not None
    source = lists.source.id
    trace = Trace(
        source=source,
        lists=lists.shown(),
        teams={},
        variant=DEFAULT_VARIANT,
        experiment=None,
        index_version=lists.index_version,
        reader=None,
        issued_at=job.issued_at,
        nonce=hashlib.blake2b(f"{job.nonce}|{source}".encode(), digest_size=8).hexdigest(),
    )
    return {
        "recommendation_id": job.ids.issue(trace),
        "variant": DEFAULT_VARIANT,
        "experiment": None,
        **view,
    }


def check_sizes(batch: int, workers: int | None) -> None:
    """Refuse a batch or worker count below 1 (both paths of precompute take them).

    Raises:
        ValueError: ``batch`` or ``workers`` is not positive.
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of articles, got {batch}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")


def precompute(
    engine: Engine,
    out: Path,
    request: ListRequest | None = None,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    progress: bool = False,
    workers: int | None = None,
    ids: RecommendationIds | None = None,
) -> PrecomputeReport:
    """Write both lists of every published article in ``engine`` to ``out`` as JSON lines.

    ``limit`` stops after that many articles (the first by doc id), e.g. to time a sample;
    ``workers`` is the number of processes (default: one per core); ``ids`` signs a
    recommendation id into each line (None: lines without one).

    Raises:
        ValueError: ``batch`` or ``workers`` is not positive.
        OSError: ``out`` cannot be written (its folder is created if missing).
    """
    check_sizes(batch, workers)
    global _JOB
    request = request or ListRequest()
    started = time.perf_counter()
    docs = np.flatnonzero(engine.columns.live).astype(np.int64)[:limit]
    chunks = [docs[start : start + batch] for start in range(0, len(docs), batch)]
    n_workers = min(workers or os.cpu_count() or 1, max(len(chunks), 1))
    if request.explain or "fork" not in multiprocessing.get_all_start_methods():
        # Explanations read the catalogue, whose connection must not be forked; and without
        # fork (Windows) a worker would have to load the engine again.
        n_workers = 1
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    version = engine.index_version
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(docs), desc="precompute", unit="article")
    parts = Path(tempfile.mkdtemp(prefix=f".{out.name}.parts-", dir=out.parent))
    _JOB = _Job(engine, PrecomputeRun.start(request, ids))
    try:
        files = [parts / f"{i:06d}.jsonl" for i in range(len(chunks))]
        if n_workers == 1:
            results = []
            for chunk, file in zip(chunks, files, strict=True):
                results.append(_write_part(chunk, file))
                if bar is not None:
                    bar.update(len(chunk))
        else:
            # fork: the workers start with the loaded engine instead of loading it again.
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(
                n_workers, mp_context=context, initializer=one_thread_per_process
            ) as pool:
                futures = [
                    pool.submit(_write_part, chunk, file)
                    for chunk, file in zip(chunks, files, strict=True)
                ]
                results = []
                for chunk, future in zip(chunks, futures, strict=True):
                    results.append(future.result())
                    if bar is not None:
                        bar.update(len(chunk))
        sha256 = write_joined(out, _blocks(files))
        for count, part_version in results:
            written += count
            version = part_version if count else version
    finally:
        _JOB = None
        shutil.rmtree(parts, ignore_errors=True)
        if bar is not None:
            bar.close()
    return PrecomputeReport(out, written, time.perf_counter() - started, version, sha256)


def _blocks(files: list[Path]) -> Iterator[bytes]:
    for file in files:
        with file.open("rb") as part:
            while block := part.read(1 << 20):
                yield block


def write_joined(out: Path, blocks: Iterable[bytes]) -> str:
    """Write ``blocks`` one after another to ``out`` (gzipped for a ``.gz`` name), atomically:
    under a temporary name, synced, then renamed into place; a failure leaves ``out`` as it
    was. Returns the sha256 of the bytes written (before compression).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with _open(tmp, compress=out.suffix == ".gz") as handle:
            for block in blocks:
                digest.update(block)
                handle.write(block)
            handle.flush()
        with tmp.open("rb") as synced:
            os.fsync(synced.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()
