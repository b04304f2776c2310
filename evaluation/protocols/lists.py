"""What every list protocol does with its task: ingest into an evaluation home, optionally sweep
the settings on the tuning sources, rank the reported sources with every method, and figure.

newsrec's lists come from the home's engine (:mod:`evaluation.engine_lists`); a sweep's trial is
an engine over a copy of the settings, so any setting reaches the lists by name.
"""

from __future__ import annotations

import time

import numpy as np

from evaluation.config import EvaluationConfig
from evaluation.engine_lists import engine_run
from evaluation.figures import run_figures
from evaluation.harness import (
    BASELINES,
    MethodResult,
    Workbench,
    default_methods,
    evaluate_methods,
    open_workbench,
)
from evaluation.metrics import accuracy, accuracy_names
from evaluation.protocols.base import Outcome
from evaluation.sweeps import SWEEP_SPACE, SweepResult, SweepSpace, run_sweep, sweep_configs
from evaluation.tasks import ListTask

__all__ = ["BEYOND", "run_list_task"]

_RECENCY_SETTINGS = ("w_rec", "recency_half_life_before_days", "recency_half_life_after_days")
#: The beyond-accuracy figures of the report, per cut-off.
BEYOND = (
    "coverage",
    "top_read_share",
    "diversity",
    "time_gap_days",
    "story_duplicates",
    "one_story_ndcg",
    "popularity_percentile",
    "short_lists",
)


def run_list_task(
    config: EvaluationConfig, task: ListTask, *, space: SweepSpace = SWEEP_SPACE
) -> Outcome:
    """Evaluate every method of ``task`` under ``config``; ``space`` is what a sweep tunes."""
    bench = open_workbench(
        task,
        config.out,
        settings_overrides=config.settings_overrides,
        cache_dir=config.cache_dir,
        progress=config.progress,
    )
    main = f"ndcg@{config.main_k}"
    try:
        sweep = None
        if config.sweep is not None:
            sweep = _sweep(config, bench, task, main, space)
        methods = evaluate_methods(
            bench,
            task,
            default_methods(task),
            task.qrels,
            config.ks,
            config.seed,
            progress=config.progress,
        )
        if sweep is not None:
            methods["related_tuned"] = _tuned(config, bench, task, sweep.best.config)
        settings = bench.settings.model_dump(mode="json", exclude={"api_key", "read_key"})
        catalogue = len(bench.corpus)
    finally:
        bench.close()
    k = config.main_k
    notes = dict(task.notes) | {"catalogue": catalogue}
    if task.events is not None:
        notes["engine_sees"] = task.events.about
    return Outcome(
        methods=methods,
        qrels=task.qrels,
        main_metric=main,
        headline=[f"ndcg@{n}" for n in config.ks]
        + [f"precision@{k}", f"recall@{k}", f"hit_rate@{k}", "mrr"],
        beyond=[f"{name}@{k}" for name in BEYOND],
        baselines=BASELINES,
        notes=notes,
        settings=settings,
        sweep=sweep,
        tuning=len(task.tune_sources),
        plot="lists",
        ranx_metrics=accuracy_names(config.ks),
    )


def _sweep(
    config: EvaluationConfig, bench: Workbench, task: ListTask, main: str, space: SweepSpace
) -> SweepResult:
    sources = task.tune_sources
    if not sources:
        raise ValueError("the sweep has no tuning sources (no judged source in the tuning fold)")
    k = config.main_k

    def objective(overrides: dict[str, float]) -> float:
        engine = bench.engine_for(overrides)
        try:
            run = engine_run(engine, bench.corpus, sources, k, "related", rule=task.rule)
        finally:
            if engine is not bench.engine:
                engine.close()
        return float(accuracy(run, task.tune_qrels, [k])[main].mean())

    # Without publish times recency is 0 for every candidate: its settings change nothing.
    undated = not np.isfinite(bench.corpus.published_ts).any()
    configs = sweep_configs(
        config.sweep or "random",
        config.trials,
        config.seed,
        fixed=config.settings_overrides,
        exclude=_RECENCY_SETTINGS if undated else (),
        space=space,
    )
    return run_sweep(
        configs,
        objective,
        kind=config.sweep or "random",
        objective_name=main,
        progress=config.progress,
    )


def _tuned(
    config: EvaluationConfig, bench: Workbench, task: ListTask, best: dict[str, float]
) -> MethodResult:
    engine = bench.engine_for(best)
    try:
        started = time.perf_counter()
        run = engine_run(
            engine, bench.corpus, task.sources, max(config.ks), "related", rule=task.rule
        )
        seconds = time.perf_counter() - started
    finally:
        if engine is not bench.engine:
            engine.close()
    figures = run_figures(run, task.qrels, config.ks, bench.corpus, bench.judge)
    return MethodResult("related_tuned", run, figures.per_query, figures.figures, seconds)
