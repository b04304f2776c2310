"""The two sizes of the benchmark: quick (proves every part runs, for CI) and full (the report)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

__all__ = ["FULL", "QUICK", "BenchConfig", "Mode"]

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class BenchConfig:
    """How much of everything to measure.

    Attributes:
        mode: ``quick`` or ``full``.
        repeats: timed repeats behind each median.
        embed_leads: MIND headline+lead texts timed per repeat.
        embed_stories: full Reuters stories timed per repeat.
        ndcg_sources: Reuters TEST articles (with topics) in the nDCG slice; 0 skips it.
        real_vectors: MIND headlines embedded as the real part of every collection.
        index_sizes: collection sizes for the index tables (real, then grown synthetically).
        index_queries: queries behind each latency and recall figure.
        peer_limits: largest size each peer runs at (slow peers stop earlier).
        rebuild_limit: largest size whose newsrec indexes are built by the index section;
            above it the serving home's published index is measured.
        engine_size: articles in the home that times the engine and precompute.
        engine_lists: lists timed per repeat.
        precompute_limit: articles precomputed per timed run (None: the whole home).
        service_seconds: wrk duration of each load run.
        memory_sizes: home sizes whose serving process's memory is measured.
    """

    mode: Mode
    repeats: int
    embed_leads: int
    embed_stories: int
    ndcg_sources: int
    real_vectors: int
    index_sizes: tuple[int, ...]
    index_queries: int
    peer_limits: dict[str, int]
    rebuild_limit: int
    engine_size: int
    engine_lists: int
    precompute_limit: int | None
    service_seconds: int
    memory_sizes: tuple[int, ...]
    out: Path = Path("bench-output")
    work: Path = Path(".bench-work")
    data: Path | None = None

    def at(self, *, out: Path, work: Path, data: Path | None) -> BenchConfig:
        """This configuration writing to ``out``, caching in ``work``, reading ``data``."""
        return replace(self, out=out, work=work, data=data)


QUICK = BenchConfig(
    mode="quick",
    repeats=2,
    embed_leads=8,
    embed_stories=2,
    ndcg_sources=12,
    real_vectors=200,
    index_sizes=(200, 1_000),
    index_queries=30,
    peer_limits={"scikit-learn": 1_000, "qdrant-local": 1_000, "usearch": 1_000},
    rebuild_limit=1_000_000,
    engine_size=1_000,
    engine_lists=50,
    precompute_limit=None,
    service_seconds=1,
    memory_sizes=(1_000,),
)

FULL = BenchConfig(
    mode="full",
    repeats=5,
    embed_leads=256,
    embed_stories=64,
    ndcg_sources=600,
    real_vectors=51_282,
    index_sizes=(51_282, 100_000, 1_000_000),
    index_queries=300,
    peer_limits={"scikit-learn": 1_000_000, "qdrant-local": 51_282, "usearch": 100_000},
    rebuild_limit=100_000,
    engine_size=100_000,
    engine_lists=1_000,
    precompute_limit=20_000,
    service_seconds=10,
    memory_sizes=(100_000, 1_000_000),
)
