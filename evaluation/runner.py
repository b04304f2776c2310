"""``newsrec evaluate``: one protocol over one dataset, baselines and newsrec in the same run.

A run loads the dataset, builds the protocol's task, ingests the stripped articles into a fresh
evaluation home under ``--out``, optionally sweeps the Related settings on tuning sources, ranks
the reported sources with every method, and writes the lists (``runs/*.trec``), the judgements
(``qrels.trec[.gz]``), ``results.json``, ``report.md`` and plots.
"""

from __future__ import annotations

import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.config import EvaluationConfig
from evaluation.datasets import Dataset, load_dataset
from evaluation.harness import METHOD_NOTES, MethodResult
from evaluation.protocols import PROTOCOLS, Outcome, protocol_named
from evaluation.protocols.base import LoadsOwnDataset
from evaluation.report import (
    code_version,
    plot_impressions,
    plot_metric_vs_k,
    plot_sweep_heatmap,
    write_report,
    write_results,
)
from evaluation.runs import Qrels, write_qrels, write_run
from evaluation.significance import bootstrap_ci, paired_test
from evaluation.sweeps import SweepResult, write_settings_file
from recommender.embedding.embedder import planned_backend
from recommender.settings import Settings

__all__ = ["PROTOCOLS", "EvaluationConfig", "run_evaluation"]

_LARGE_QRELS = 200_000  # judged pairs above which qrels are gzipped
#: Libraries whose versions can change a figure; recorded in results.json.
_LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "ranx",
    "faiss-cpu",
    "torch",
    "transformers",
    "sentence-transformers",
    "openvino",
)


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
    if not present or any(metric not in m.per_query for m in methods.values()):
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


def _recompute_snippet(metrics: Sequence[str], qrels_file: str, runs: Sequence[str]) -> str:
    if qrels_file.endswith(".gz"):  # ranx reads plain TREC files only
        load = [
            "import gzip",
            "with gzip.open('" + qrels_file + "', 'rt') as f:",
            "    pairs = [line.split() for line in f if line.strip()]",
            "judged = {}",
            "for q, _, d, r in pairs:",
            "    judged.setdefault(q, {})[d] = int(r)",
            "qrels = Qrels.from_dict(judged)",
        ]
    else:
        load = [f"qrels = Qrels.from_file('{qrels_file}', kind='trec')"]
    return "\n".join(
        [
            "# In the output folder; needs only ranx.",
            "from ranx import Qrels, Run, evaluate",
            *load,
            f"metrics = {list(metrics)!r}",
            "figures = {}",
            f"for name in {list(runs)!r}:",
            "    run = Run.from_file(f'runs/{name}.trec', kind='trec')",
            "    figures[name] = evaluate(qrels, run, metrics, make_comparable=True)",
            "    print(name, figures[name])",
        ]
    )


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _embedding(settings: Settings) -> dict[str, Any]:
    # The resolved path, never "auto": it names the vectors' cache folder too, so every vector
    # of the run was computed this way (or on the torch fallback, which logs a warning).
    return {
        "model": settings.model,
        "backend": planned_backend(settings),
        "max_seq_length": settings.max_seq_length,
    }


def _finish(
    config: EvaluationConfig,
    dataset: Dataset,
    outcome: Outcome,
    started: tuple[float, str],
) -> dict[str, Any]:
    out = config.out
    methods, main = outcome.methods, outcome.main_metric
    files = _write_lists(out, methods, outcome.qrels)
    sweep = outcome.sweep
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
        sweep_payload = _sweep_payload(sweep, settings_file, outcome.tuning, out)
    resolved = Settings(
        home=out / "home",
        **{
            name: outcome.settings[name]
            for name in ("model", "max_seq_length", "embed_backend", "embed_precision")
            if name in outcome.settings
        },
    )
    results: dict[str, Any] = {
        "protocol": config.protocol,
        "command": config.command or " ".join(shlex.quote(a) for a in sys.argv),
        "started_at": started[1],
        "code_version": code_version(),
        "seed": config.seed,
        "ks": list(config.ks),
        "dataset": dataset.summary(),
        "protocol_notes": outcome.notes,
        "settings": outcome.settings,
        "embedding": _embedding(resolved),
        "versions": _versions(),
        "main_metric": main,
        "headline_metrics": outcome.headline,
        "beyond_metrics": outcome.beyond,
        "methods": {
            name: {
                "figures": m.figures,
                "ci": _confidence(m.per_query, outcome.headline, config.seed),
                "seconds": round(m.seconds, 3),
                "about": METHOD_NOTES.get(name, ""),
                "run_file": files[f"run {name}"],
            }
            for name, m in methods.items()
        },
        "significance": _significance(methods, main, config.seed, outcome.baselines),
        # The same test with every list held to one item per story (figures.py): the engine's
        # lists never show a story twice, and a baseline's copies of one story count as hits.
        "significance_one_story": _significance(
            methods, f"one_story_{main}", config.seed, outcome.baselines
        ),
        "sweep": sweep_payload,
        "files": files,
        "recompute": _recompute_snippet(outcome.ranx_metrics, files["qrels"], list(methods)),
    }
    plots: list[Path] = []
    (out / "plots").mkdir(exist_ok=True)
    figures = {name: m.figures for name, m in methods.items()}
    if outcome.plot == "lists":
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
                outcome.headline,
                out / "plots" / "impressions.png",
                title="MIND impressions",
            )
        )
    if sweep_payload is not None:
        plots += _sweep_plots(sweep_payload, out, sweep, main)
    for plot in plots:
        files[f"plot {plot.stem}"] = str(plot.relative_to(out))
    results["seconds"] = time.perf_counter() - started[0]
    write_results(out, results)
    files["report"] = "report.md"
    write_report(out, results, plots)
    return results


def _sweep_plots(
    payload: dict[str, Any], out: Path, sweep: SweepResult | None, main: str
) -> list[Path]:
    plots: list[Path] = []
    for x, y, name in (
        ("w_pop", "w_rec", "sweep_w_pop_w_rec.png"),
        ("w_pop", "w_coread", "sweep_w_pop_w_coread.png"),
        ("recency_half_life_before_days", "recency_half_life_after_days", "sweep_half_lives.png"),
    ):
        heat = plot_sweep_heatmap(
            payload["trials"],
            x,
            y,
            out / "plots" / name,
            objective=sweep.objective if sweep else main,
        )
        if heat is not None:
            plots.append(heat)
    return plots


def run_evaluation(config: EvaluationConfig) -> dict[str, Any]:
    """Run ``config`` and write its files under ``config.out``; returns ``results.json``'s data.

    Raises:
        evaluation.datasets.DatasetError: a dataset that cannot serve the protocol.
        ValueError: an unknown protocol, or options that do not fit together (e.g. a sweep
            without tuning sources).
    """
    protocol = protocol_named(config.protocol)
    started = (time.perf_counter(), _now())
    config.out.mkdir(parents=True, exist_ok=True)
    if isinstance(protocol, LoadsOwnDataset):
        dataset = protocol.load_dataset(config)
    else:
        dataset = load_dataset(list(config.datasets), label_fields=protocol.label_fields(config))
    return _finish(config, dataset, protocol.run(config, dataset), started)
