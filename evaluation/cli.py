"""The ``newsrec evaluate`` command's work: parse its options, run, and summarise the figures.

``recommender/cli.py`` stays a thin Typer shell; everything that can go wrong here becomes an
:class:`EvaluateError` carrying the exit code (2 for bad options or data, 1 for a failed run).
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from evaluation.datasets import DatasetError
from evaluation.runner import PROTOCOLS, EvaluationConfig, run_evaluation
from evaluation.sweeps import SweepKind
from evaluation.workspace import WorkspaceError
from recommender.settings import Settings

__all__ = ["EvaluateError", "evaluate_command", "parse_ks", "parse_settings"]


class EvaluateError(Exception):
    """A failed ``newsrec evaluate``; ``exit_code`` is 2 for bad input, 1 for a failed run."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_ks(text: str) -> tuple[int, ...]:
    """``"5,10,20"`` -> ``(5, 10, 20)``, sorted and unique.

    Raises:
        EvaluateError: a cut-off that is not a positive integer.
    """
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise EvaluateError(f"--k {text!r}: expected integers separated by commas") from exc
    if not values or values[0] < 1 or values[-1] > 50:
        raise EvaluateError(f"--k {text!r}: cut-offs must be between 1 and 50")
    return tuple(values)


def parse_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """``["w_pop=0.3"]`` -> ``{"w_pop": 0.3}``, each checked against the settings.

    Raises:
        EvaluateError: not KEY=VALUE, an unknown setting, or a value the settings refuse.
    """
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise EvaluateError(f"--set {pair!r}: expected KEY=VALUE, e.g. w_pop=0.3")
        if key not in Settings.model_fields or key == "home":
            raise EvaluateError(f"--set {pair!r}: {key!r} is not a newsrec setting")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    try:
        Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvaluateError(f"--set {where}: {first['msg']}") from exc
    return overrides


def _summary(results: dict[str, Any], out: Path) -> str:
    main = results["main_metric"]
    names = results["headline_metrics"]
    width = max(len(n) for n in results["methods"]) + 2
    lines = [
        f"{results['protocol']} protocol, {results['dataset']['articles']} articles, "
        f"seed {results['seed']}, {results['seconds']:.0f} s",
        " " * width + "".join(f"{n:>13}" for n in names),
    ]
    for name, method in results["methods"].items():
        cells = "".join(
            f"{method['figures'].get(n):>13.4f}"
            if method["figures"].get(n) is not None
            else f"{'-':>13}"
            for n in names
        )
        lines.append(f"{name:<{width}}{cells}")
    significance = results.get("significance")
    if significance:
        for name, test in significance["tests"].items():
            lines.append(
                f"{name} vs {significance['best_baseline']} on {main}: "
                f"{test['mean_difference']:+.4f} (p = {test['p_value']:.4f})"
            )
    overlay = results.get("protocol_notes", {}).get("candidate_vs_current")
    if overlay:
        lines.append(
            f"candidate vs current (the --set overlay alone) on {overlay['metric']}: "
            f"{overlay['mean_difference']:+.4f} (p = {overlay['p_value']:.4f})"
        )
    caveat = results.get("protocol_notes", {}).get("caveat")
    if caveat:
        lines.append(f"caveat: {caveat}")
    if results.get("sweep"):
        lines.append(f"best settings: {out / results['sweep']['settings_file']}")
    lines.append(f"report: {out / 'report.md'}")
    return "\n".join(lines)


def evaluate_command(
    datasets: Sequence[Path],
    *,
    protocol: str,
    out: Path,
    k: str = "5,10,20",
    seed: int = 0,
    sweep: str | None = None,
    trials: int = 20,
    split: str = "test",
    limit_sources: int | None = None,
    tune_sources: int | None = 500,
    before_source: bool = False,
    window_days: float | None = None,
    labels: str = "topics",
    synthetic_reads: int = 0,
    settings: Sequence[str] = (),
    cache: Path | None = None,
    progress: bool = False,
    home: Path | None = None,
) -> str:
    """Run one evaluation from command-line values; returns the summary to print.

    Raises:
        EvaluateError: bad options or data (exit code 2), or a failed run (exit code 1).
    """
    if protocol not in PROTOCOLS:
        raise EvaluateError(f"--protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    if sweep not in (None, "grid", "random"):
        raise EvaluateError(f"--sweep {sweep!r}: expected 'grid' or 'random'")
    if window_days is not None and window_days <= 0:
        raise EvaluateError(f"--window-days {window_days}: must be positive")
    fields = tuple(f.strip() for f in labels.split(",") if f.strip())
    if protocol == "labels" and not fields:
        raise EvaluateError("--labels: name at least one label field, e.g. topics")
    try:
        config = EvaluationConfig(
            datasets=tuple(datasets),
            protocol=protocol,
            out=out,
            ks=parse_ks(k),
            seed=seed,
            sweep=cast(SweepKind | None, sweep),
            trials=trials,
            split=None if split.lower() == "all" else split,
            limit_sources=limit_sources,
            tune_sources=tune_sources,
            before_source=before_source,
            window_days=window_days,
            label_fields=fields,
            synthetic_reads=synthetic_reads,
            settings_overrides=parse_settings(settings),
            cache_dir=cache,
            progress=progress,
            command=" ".join(shlex.quote(a) for a in ["newsrec", *sys.argv[1:]]),
            home=home,
        )
        results = run_evaluation(config)
    except DatasetError as exc:
        raise EvaluateError(str(exc)) from exc
    except WorkspaceError as exc:
        raise EvaluateError(str(exc), exit_code=1) from exc
    except ValueError as exc:
        raise EvaluateError(str(exc)) from exc
    return _summary(results, out)
