"""``newsrec evaluate``: one protocol over one dataset, baselines and newsrec in the same run.

A run loads the dataset, builds the protocol's task, ingests the stripped articles into a fresh
evaluation home under ``--out``, optionally sweeps the Related settings on tuning sources, ranks
the reported sources with every method, and writes the lists (``runs/*.trec``), the judgements
(``qrels.trec[.gz]``), ``results.json``, ``report.md`` and plots.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from evaluation.candidates import CandidateRule
from evaluation.datasets import DEFAULT_LABEL_FIELDS, Dataset, load_dataset
from evaluation.engine_lists import engine_run
from evaluation.figures import run_figures
from evaluation.harness import (
    BASELINES,
    METHOD_NOTES,
    MethodResult,
    Workbench,
    default_methods,
    evaluate_methods,
    open_workbench,
)
from evaluation.metrics import accuracy
from evaluation.protocols.coread import coread_task
from evaluation.protocols.impressions import (
    IMPRESSION_FIGURES,
    IMPRESSION_METHODS,
    ImpressionTask,
    impression_qrels,
    impression_run,
    impressions_task,
    score_impressions,
)
from evaluation.protocols.labels import labels_task
from evaluation.report import (
    code_version,
    plot_impressions,
    plot_metric_vs_k,
    plot_sweep_heatmap,
    write_report,
    write_results,
)
from evaluation.runs import Qrels, Run, write_qrels, write_run
from evaluation.significance import bootstrap_ci, paired_test
from evaluation.sweeps import (
    SWEEP_SPACE,
    SWEEP_SPACES,
    SweepKind,
    SweepResult,
    run_sweep,
    sweep_configs,
    write_settings_file,
)
from evaluation.tasks import ListTask
from recommender.ranking.scoring import Weights

__all__ = ["PROTOCOLS", "EvaluationConfig", "Protocol", "run_evaluation"]

Protocol = Literal["labels", "coread", "impressions"]
PROTOCOLS: tuple[Protocol, ...] = ("labels", "coread", "impressions")
_LARGE_QRELS = 200_000  # judged pairs above which qrels are gzipped
_RECENCY_SETTINGS = ("w_rec", "recency_half_life_before_days", "recency_half_life_after_days")
# MIND news carry no dates and impressions are scored as a whole, so only the weights matter.
_NOT_IN_IMPRESSIONS = (*_RECENCY_SETTINGS, "story_threshold", "mmr_lambda")


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything one ``newsrec evaluate`` run needs; see the CLI for each option's meaning."""

    datasets: tuple[Path, ...]
    protocol: Protocol
    out: Path
    ks: tuple[int, ...] = (5, 10, 20)
    seed: int = 0
    sweep: SweepKind | None = None
    trials: int = 20
    split: str | None = "TEST"
    limit_sources: int | None = None
    tune_sources: int | None = 500
    before_source: bool = False
    window_days: float | None = None
    label_fields: tuple[str, ...] = DEFAULT_LABEL_FIELDS
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    progress: bool = False
    command: str = ""

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if not self.ks or any(k < 1 for k in self.ks):
            raise ValueError(f"cut-offs must be positive integers, got {self.ks}")
        if self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.limit_sources is not None and self.limit_sources < 1:
            raise ValueError(f"limit_sources must be at least 1, got {self.limit_sources}")

    @property
    def main_k(self) -> int:
        """The cut-off of the headline figure: 10 when asked for, else the largest."""
        return 10 if 10 in self.ks else max(self.ks)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _confidence(
    per_query: Mapping[str, np.ndarray], names: Sequence[str], seed: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name in names:
        values = per_query.get(name)
        if values is not None and len(values):
            out[name] = list(bootstrap_ci(values, seed=seed))
    return out


def _significance(
    methods: Mapping[str, MethodResult], metric: str, seed: int, baselines: Sequence[str]
) -> dict[str, Any] | None:
    present = [b for b in baselines if b in methods]
    if not present:
        return None
    best = max(present, key=lambda b: float(np.mean(methods[b].per_query[metric])))
    tests: dict[str, Any] = {}
    for name, method in methods.items():
        if name in baselines:
            continue
        test = paired_test(method.per_query[metric], methods[best].per_query[metric], seed=seed)
        tests[name] = {
            "mean_difference": test.mean_difference,
            "ci_low": test.ci_low,
            "ci_high": test.ci_high,
            "p_value": test.p_value,
            "queries": test.queries,
        }
    return {"metric": metric, "best_baseline": best, "tests": tests}


def _write_lists(out: Path, methods: Mapping[str, MethodResult], qrels: Qrels) -> dict[str, str]:
    files: dict[str, str] = {}
    for name, method in methods.items():
        path = out / "runs" / f"{name}.trec"
        write_run(method.run, path, tag=name)
        files[f"run {name}"] = str(path.relative_to(out))
    pairs = sum(len(v) for v in qrels.values())
    qrels_path = out / ("qrels.trec.gz" if pairs > _LARGE_QRELS else "qrels.trec")
    write_qrels(qrels, qrels_path)
    files["qrels"] = qrels_path.name
    return files


def _sweep_payload(
    sweep: SweepResult, settings_file: Path, tuning: int, out: Path
) -> dict[str, Any]:
    return {
        "kind": sweep.kind,
        "objective": sweep.objective,
        "tuning_queries": tuning,
        "trials": [{"config": t.config, "objective": t.objective} for t in sweep.trials],
        "best": {"config": sweep.best.config, "objective": sweep.best.objective},
        "settings_file": str(settings_file.relative_to(out)),
    }


def _recompute_snippet(main: str, qrels_file: str) -> str:
    return "\n".join(
        [
            "from ranx import Qrels, Run, evaluate",
            "from evaluation.runs import read_qrels, read_run  # or any TREC reader",
            f"qrels = Qrels.from_dict(read_qrels('{qrels_file}'))",
            "run = Run.from_dict({q: dict(items) for q, items in "
            "read_run('runs/related.trec').items()})",
            f"print(evaluate(qrels, run, '{main}'))",
        ]
    )


def _list_protocol(
    config: EvaluationConfig, dataset: Dataset, started: tuple[float, str]
) -> dict[str, Any]:
    tune = config.sweep is not None
    if config.protocol == "labels":
        task: ListTask = labels_task(
            dataset,
            split=config.split,
            rule=CandidateRule(config.before_source, config.window_days),
            limit_sources=config.limit_sources,
            tune=tune,
            tune_limit=config.tune_sources,
            seed=config.seed,
        )
    else:
        task = coread_task(
            dataset,
            config.seed,
            limit_sources=config.limit_sources,
            tune_limit=config.tune_sources,
        )
    bench = open_workbench(
        task,
        config.out,
        settings_overrides=config.settings_overrides,
        cache_dir=config.cache_dir,
        progress=config.progress,
    )
    main = f"ndcg@{config.main_k}"
    try:
        sweep_result = None
        best_weights: dict[str, float] | None = None
        if tune:
            sweep_result = _sweep_lists(config, bench, task, main)
            best_weights = sweep_result.best.config
        chosen = default_methods(task)
        methods = evaluate_methods(
            bench, task, chosen, task.qrels, config.ks, config.seed, progress=config.progress
        )
        if best_weights is not None:
            methods["related_tuned"] = _tuned_lists(config, bench, task, best_weights)
        settings = bench.settings.model_dump(mode="json", exclude={"api_key", "read_key"})
        catalogue = len(bench.corpus)
    finally:
        bench.close()
    return _finish(
        config,
        dataset,
        task.notes | {"catalogue": catalogue},
        settings,
        methods,
        task.qrels,
        main,
        sweep_result,
        len(task.tune_sources),
        started,
        list_protocol=True,
    )


def _sweep_lists(
    config: EvaluationConfig, bench: Workbench, task: ListTask, main: str
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
        space=SWEEP_SPACES.get(config.protocol, SWEEP_SPACE),
    )
    return run_sweep(
        configs,
        objective,
        kind=config.sweep or "random",
        objective_name=main,
        progress=config.progress,
    )


def _tuned_lists(
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
        engine.close()
    figures = run_figures(run, task.qrels, config.ks, bench.corpus, bench.judge)
    return MethodResult("related_tuned", run, figures.per_query, figures.figures, seconds)


def _impressions_protocol(
    config: EvaluationConfig, dataset: Dataset, started: tuple[float, str]
) -> dict[str, Any]:
    itask: ImpressionTask = impressions_task(
        dataset, config.seed, tune=config.sweep is not None, limit=config.limit_sources
    )
    bench = open_workbench(
        itask.list_task,
        config.out,
        settings_overrides=config.settings_overrides,
        cache_dir=config.cache_dir,
        progress=config.progress,
    )
    try:
        corpus, settings = bench.corpus, bench.settings
        tfidf = bench.scorer("tfidf", config.seed)
        names = [
            m
            for m in IMPRESSION_METHODS
            if m != "most_popular" or any(itask.list_task.popularity.values())
        ]
        sweep_result = None
        runs: dict[str, tuple[Run, float]] = {}
        if config.sweep is not None:
            if not itask.tune_cases:
                raise ValueError("the sweep has no tuning impressions")

            def objective(overrides: dict[str, float]) -> float:
                weights = Weights.from_settings(settings.model_copy(update=overrides))
                run = impression_run(
                    "related", itask.tune_cases, corpus, settings, seed=config.seed, weights=weights
                )
                return float(score_impressions(run, itask.tune_cases)["auc"].mean())

            configs = sweep_configs(
                config.sweep,
                config.trials,
                config.seed,
                fixed=config.settings_overrides,
                exclude=_NOT_IN_IMPRESSIONS,
            )
            sweep_result = run_sweep(
                configs,
                objective,
                kind=config.sweep,
                objective_name="auc",
                progress=config.progress,
            )
        for name in names:
            t0 = time.perf_counter()
            run = impression_run(name, itask.cases, corpus, settings, seed=config.seed, tfidf=tfidf)  # type: ignore[arg-type]
            runs[name] = (run, time.perf_counter() - t0)
        if sweep_result is not None:
            best = sweep_result.best.config
            t0 = time.perf_counter()
            run = impression_run(
                "related",
                itask.cases,
                corpus,
                settings,
                seed=config.seed,
                weights=Weights.from_settings(settings.model_copy(update=best)),
            )
            runs["related_tuned"] = (run, time.perf_counter() - t0)
        methods: dict[str, MethodResult] = {}
        for name, (run, seconds) in runs.items():
            per_query = score_impressions(run, itask.cases)
            figures: dict[str, float | None] = {n: float(v.mean()) for n, v in per_query.items()}
            figures["queries"] = float(len(itask.cases))
            methods[name] = MethodResult(name, run, dict(per_query), figures, seconds)
        settings_dump = settings.model_dump(mode="json", exclude={"api_key", "read_key"})
    finally:
        bench.close()
    return _finish(
        config,
        dataset,
        dict(itask.notes),
        settings_dump,
        methods,
        impression_qrels(itask.cases),
        "auc",
        sweep_result,
        len(itask.tune_cases),
        started,
        list_protocol=False,
    )


def _finish(
    config: EvaluationConfig,
    dataset: Dataset,
    notes: dict[str, Any],
    settings: dict[str, Any],
    methods: dict[str, MethodResult],
    qrels: Qrels,
    main: str,
    sweep: SweepResult | None,
    tuning: int,
    started: tuple[float, str],
    *,
    list_protocol: bool,
) -> dict[str, Any]:
    out = config.out
    files = _write_lists(out, methods, qrels)
    if list_protocol:
        headline = [f"ndcg@{k}" for k in config.ks] + [
            f"precision@{config.main_k}",
            f"recall@{config.main_k}",
            f"hit_rate@{config.main_k}",
            "mrr",
        ]
        beyond = [
            f"{m}@{config.main_k}"
            for m in (
                "coverage",
                "diversity",
                "time_gap_days",
                "story_duplicates",
                "popularity_percentile",
                "short_lists",
            )
        ]
        baselines: Sequence[str] = BASELINES
    else:
        headline, beyond, baselines = (
            list(IMPRESSION_FIGURES),
            [],
            ("random", "most_popular", "tfidf", "embedding"),
        )
    sweep_payload = None
    if sweep is not None:
        settings_file = out / "best_settings.toml"
        best = {**dict(config.settings_overrides), **sweep.best.config}
        write_settings_file(
            best,
            settings_file,
            comment=f"Best of a {sweep.kind} sweep by newsrec evaluate ({config.protocol}, "
            f"{sweep.objective} {sweep.best.objective:.4f} on tuning sources).\n"
            f"Load with NEWSREC_SETTINGS_FILE={settings_file.name}",
        )
        files["best settings"] = settings_file.name
        sweep_payload = _sweep_payload(sweep, settings_file, tuning, out)
    results: dict[str, Any] = {
        "protocol": config.protocol,
        "command": config.command or " ".join(shlex.quote(a) for a in sys.argv),
        "started_at": started[1],
        "code_version": code_version(),
        "seed": config.seed,
        "ks": list(config.ks),
        "dataset": dataset.summary(),
        "protocol_notes": notes,
        "settings": settings,
        "main_metric": main,
        "headline_metrics": headline,
        "beyond_metrics": beyond,
        "methods": {
            name: {
                "figures": m.figures,
                "ci": _confidence(m.per_query, headline, config.seed),
                "seconds": round(m.seconds, 3),
                "about": METHOD_NOTES.get(name, ""),
                "run_file": files[f"run {name}"],
            }
            for name, m in methods.items()
        },
        "significance": _significance(methods, main, config.seed, baselines),
        "sweep": sweep_payload,
        "files": files,
        "recompute": _recompute_snippet(main, files["qrels"]),
    }
    plots: list[Path] = []
    (out / "plots").mkdir(exist_ok=True)
    figures = {name: m.figures for name, m in methods.items()}
    if list_protocol:
        plots.append(
            plot_metric_vs_k(
                figures,
                config.ks,
                out / "plots" / "metric_vs_k.png",
                title=f"{config.protocol} protocol",
            )
        )
    else:
        plots.append(
            plot_impressions(
                figures,
                IMPRESSION_FIGURES,
                out / "plots" / "impressions.png",
                title="MIND impressions",
            )
        )
    if sweep_payload is not None:
        for x, y, name in (
            ("w_pop", "w_rec", "sweep_w_pop_w_rec.png"),
            ("w_pop", "w_coread", "sweep_w_pop_w_coread.png"),
            (
                "recency_half_life_before_days",
                "recency_half_life_after_days",
                "sweep_half_lives.png",
            ),
        ):
            heat = plot_sweep_heatmap(
                sweep_payload["trials"],
                x,
                y,
                out / "plots" / name,
                objective=sweep.objective if sweep else main,
            )
            if heat is not None:
                plots.append(heat)
    for plot in plots:
        files[f"plot {plot.stem}"] = str(plot.relative_to(out))
    results["seconds"] = time.perf_counter() - started[0]
    write_results(out, results)
    files["report"] = "report.md"
    write_report(out, results, plots)
    return results


def run_evaluation(config: EvaluationConfig) -> dict[str, Any]:
    """Run ``config`` and write its files under ``config.out``; returns ``results.json``'s data.

    Raises:
        evaluation.datasets.DatasetError: a dataset that cannot serve the protocol.
        ValueError: options that do not fit together (e.g. a sweep without tuning sources).
    """
    started = (time.perf_counter(), _now())
    config.out.mkdir(parents=True, exist_ok=True)
    labels = config.label_fields if config.protocol == "labels" else ()
    dataset = load_dataset(list(config.datasets), label_fields=labels)
    if config.protocol == "impressions":
        return _impressions_protocol(config, dataset, started)
    return _list_protocol(config, dataset, started)
