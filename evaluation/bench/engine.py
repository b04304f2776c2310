"""Engine time per list and ``newsrec precompute`` throughput on a large home.

Engine time is what :meth:`recommender.serving.engine.Engine.lists_for` takes in-process for one
random published article: index search, filters, blended scoring, stories, diversity and fetching
the shown articles, as a request would run it (one BLAS thread, :mod:`recommender.serving.threads`).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from evaluation.bench.config import BenchConfig
from evaluation.bench.report import Report
from recommender.operations.precompute import precompute
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.serving.threads import one_thread_per_request
from recommender.settings import Settings

__all__ = ["engine_section"]


def _time_lists(
    engine: Engine, ids: list[str], request: ListRequest
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each list (CPU time does not count waiting for a core)."""
    wall, cpu = [], []
    for article_id in ids:
        start, start_cpu = time.perf_counter(), time.thread_time()
        engine.lists_for(article_id, request)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return wall, cpu


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished child processes (precompute's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def engine_section(report: Report, config: BenchConfig, settings: Settings) -> None:
    """Time lists and a full precompute over the home of ``settings``."""
    one_thread_per_request()
    engine = Engine(settings)
    try:
        size = len(engine)
        kind = engine.status()["index_kind"]
        live = sorted(engine.columns.article_ids.values())
        rng = np.random.default_rng(11)
        ids = [
            live[i]
            for i in rng.choice(len(live), min(config.engine_lists, len(live)), replace=False)
        ]
        request = ListRequest()
        table = report.table(
            "Engine",
            "Engine time per list (both lists, k=5 each), in-process",
            [
                "articles",
                "index",
                "lists timed",
                "median ms",
                "p90 ms",
                "p99 ms",
                "median CPU ms",
                "lists/s (one thread)",
            ],
        )
        _time_lists(engine, ids[: min(100, len(ids))], request)  # warm-up
        rounds = [_time_lists(engine, ids, request) for _ in range(config.repeats)]
        medians = [statistics.median(wall) for wall, _ in rounds]
        every = [s for wall, _ in rounds for s in wall]
        cpu = statistics.median(statistics.median(c) for _, c in rounds)
        report.row(
            table,
            size,
            kind,
            len(ids),
            1e3 * statistics.median(medians),
            1e3 * float(np.percentile(every, 90)),
            1e3 * float(np.percentile(every, 99)),
            1e3 * cpu,
            1.0 / statistics.median(medians),
        )
        report.note(
            table,
            f"median of {config.repeats} rounds over the same {len(ids)} random articles, "
            "after a warm-up; p90/p99 over all timed lists; CPU ms is the thread's CPU time, "
            "which waiting for a core on a shared machine does not inflate",
        )

        table = report.table(
            "Engine",
            "newsrec precompute: both lists of every article as JSON lines",
            [
                "home articles",
                "articles written",
                "index",
                "seconds",
                "CPU seconds",
                "articles/s",
                "for 100k articles (s)",
            ],
        )
        out = config.work / "precompute" / f"lists-{size}.jsonl"
        runs = []
        for _ in range(max(1, config.repeats // 2)):
            cpu_start = _cpu_with_children()
            done = precompute(engine, out, ListRequest(), limit=config.precompute_limit)
            runs.append((done, _cpu_with_children() - cpu_start))
        seconds = statistics.median(r.seconds for r, _ in runs)
        cpu_seconds = statistics.median(c for _, c in runs)
        written = runs[0][0].articles
        report.row(
            table,
            size,
            written,
            kind,
            seconds,
            cpu_seconds,
            written / seconds,
            100_000 * seconds / written,
        )
        report.note(
            table,
            "one worker process per core, forked from the loaded engine; each line "
            "is what GET /articles/{id}/related returns; a run writes the first "
            f"{config.precompute_limit or size:,} articles, and the last column scales its "
            "time to 100k; CPU seconds count the process and its workers (both cores count)",
        )
    finally:
        engine.close()
