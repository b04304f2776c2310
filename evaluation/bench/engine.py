"""Engine time per list and ``newsrec precompute`` throughput on a large home.

Engine time is what :meth:`recommender.engine.Engine.related` takes in-process for one random
published article: index search, filters, blended scoring, stories, diversity and fetching the
shown articles, as a request would run it (one BLAS thread, :mod:`recommender.threads`).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from evaluation.bench.config import BenchConfig
from evaluation.bench.report import Report
from recommender.engine import Engine
from recommender.precompute import precompute
from recommender.requests import ListRequest
from recommender.settings import Settings
from recommender.threads import one_thread_per_request

__all__ = ["engine_section"]


def _time_lists(engine: Engine, ids: list[str], request: ListRequest) -> list[float]:
    seconds = []
    for article_id in ids:
        start = time.perf_counter()
        engine.related(article_id, request)
        seconds.append(time.perf_counter() - start)
    return seconds


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
                "lists/s (one thread)",
            ],
        )
        _time_lists(engine, ids[: min(100, len(ids))], request)  # warm-up
        rounds = [_time_lists(engine, ids, request) for _ in range(config.repeats)]
        medians = [statistics.median(r) for r in rounds]
        every = [s for r in rounds for s in r]
        report.row(
            table,
            size,
            kind,
            len(ids),
            1e3 * statistics.median(medians),
            1e3 * float(np.percentile(every, 90)),
            1e3 * float(np.percentile(every, 99)),
            1.0 / statistics.median(medians),
        )
        report.note(
            table,
            f"median of {config.repeats} rounds over the same {len(ids)} random "
            "articles, after a warm-up; p90/p99 over all timed lists",
        )

        table = report.table(
            "Engine",
            "newsrec precompute: both lists of every article as JSON lines",
            ["articles", "index", "seconds", "articles/s", "for 100k articles (s)"],
        )
        out = config.work / "precompute" / f"lists-{size}.jsonl"
        runs = [precompute(engine, out, ListRequest()) for _ in range(max(1, config.repeats // 2))]
        seconds = statistics.median(r.seconds for r in runs)
        written = runs[0].articles
        report.row(table, written, kind, seconds, written / seconds, 100_000 * seconds / written)
        report.note(
            table,
            "index searched in batches of 2,048 sources on every core; each line "
            "is what GET /articles/{id}/related returns",
        )
    finally:
        engine.close()
