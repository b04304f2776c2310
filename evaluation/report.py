"""What a run leaves behind: ``results.json`` (every figure), ``report.md`` and PNG plots.

``results.json`` carries a format version and sits beside ``results.json.sha256``; both are
written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_FORMAT_VERSION",
    "code_version",
    "plot_impressions",
    "plot_metric_vs_k",
    "plot_sweep_heatmap",
    "write_report",
    "write_results",
]

RESULTS_FORMAT_VERSION = 1
_ROOT = Path(__file__).resolve().parents[1]


def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the installed package version."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if described:
            return f"git {described}"
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"newsrec {version('newsrec')}"
    except PackageNotFoundError:
        return "unknown"


def _write_atomically(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide results from the team
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def write_results(out: Path, results: Mapping[str, Any]) -> Path:
    """Write ``results.json`` (and its ``.sha256``) into ``out``; returns its path."""
    payload = {"format_version": RESULTS_FORMAT_VERSION, **results}
    data = (json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n").encode()
    path = out / "results.json"
    _write_atomically(path, data)
    _write_atomically(
        out / "results.json.sha256", f"{hashlib.sha256(data).hexdigest()}  results.json\n".encode()
    )
    return path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_metric_vs_k(
    figures: Mapping[str, Mapping[str, float | None]],
    ks: Sequence[int],
    path: Path,
    *,
    title: str,
    metrics: Sequence[str] = ("ndcg", "precision", "recall", "hit_rate"),
) -> Path:
    """One panel per metric, one line per method, the metric against the cut-off ``k``."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for method, values in figures.items():
            ys = [values.get(f"{metric}@{k}") for k in ks]
            if all(y is not None for y in ys):
                ax.plot(list(ks), ys, marker="o", label=method)
        ax.set_title(f"{metric}@k")
        ax.set_xlabel("k")
        ax.set_xticks(list(ks))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_impressions(
    figures: Mapping[str, Mapping[str, float | None]],
    names: Sequence[str],
    path: Path,
    *,
    title: str,
) -> Path:
    """Grouped bars: each impression figure (AUC, MRR, nDCG) per method."""
    plt = _pyplot()
    methods = list(figures)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) * max(len(methods), 1) / 2 + 3, 3.8))
    width = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        ys = [figures[method].get(n) or 0.0 for n in names]
        ax.bar([j + i * width for j in range(len(names))], ys, width, label=method)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))])
    ax.set_xticklabels(list(names))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sweep_heatmap(
    trials: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    path: Path,
    *,
    objective: str,
) -> Path | None:
    """Best objective over the other settings for each ``(x, y)`` cell; ``None`` if < 2x2 cells.

    Values of random sweeps are binned into quartiles first.
    """
    import numpy as np

    xs = [float(t["config"].get(x, float("nan"))) for t in trials]
    ys = [float(t["config"].get(y, float("nan"))) for t in trials]
    zs = [float(t["objective"]) for t in trials]
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return None

    def bins(values: list[float]) -> tuple[list[int], list[str]]:
        distinct = sorted(set(values))
        if len(distinct) <= 6:
            return [distinct.index(v) for v in values], [f"{v:g}" for v in distinct]
        edges = np.quantile(values, [0, 0.25, 0.5, 0.75, 1.0])
        idx = [min(int(np.searchsorted(edges, v, side="right")) - 1, 3) for v in values]
        return idx, [f"{edges[i]:.3g}-{edges[i + 1]:.3g}" for i in range(4)]

    xi, xl = bins(xs)
    yi, yl = bins(ys)
    grid = np.full((len(yl), len(xl)), np.nan)
    for a, b, z in zip(xi, yi, zs, strict=True):
        grid[b, a] = z if np.isnan(grid[b, a]) else max(grid[b, a], z)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(xl) + 2.5, 0.8 * len(yl) + 2))
    image = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(xl)), xl, rotation=30, fontsize=8)
    ax.set_yticks(range(len(yl)), yl, fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for (r, c), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(c, r, f"{value:.3f}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax, label=objective)
    ax.set_title(f"sweep: best {objective}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _significance_lines(significance: Mapping[str, Any] | None, title: str, note: str) -> list[str]:
    if not significance:
        return []
    lines = [
        "",
        f"## {title}",
        "",
        f"Paired randomisation test on per-query {significance['metric']} against the best "
        f"baseline, **{significance['best_baseline']}**; 95% bootstrap interval of the "
        f"mean difference.{note}",
        "",
        "| method | mean difference | 95% CI | p-value | queries |",
        "|---|---|---|---|---|",
    ]
    for name, test in significance["tests"].items():
        lines.append(
            f"| {name} | {test['mean_difference']:+.4f} | {test['ci_low']:+.4f} to "
            f"{test['ci_high']:+.4f} | {test['p_value']:.4f} | {test['queries']} |"
        )
    return lines


def write_report(out: Path, results: Mapping[str, Any], plots: Sequence[Path]) -> Path:
    """Write ``report.md``: what was run, the tables of figures, significance, sweep, plots."""
    lines: list[str] = []
    protocol = results["protocol"]
    dataset = results["dataset"]
    lines += [
        f"# newsrec evaluation: {protocol} protocol",
        "",
        f"- command: `{results['command']}`",
        f"- dataset: {', '.join(Path(f['path']).name for f in dataset['files'])} "
        f"(fingerprint `{dataset['fingerprint']}`, {dataset['articles']} articles)",
        f"- seed {results['seed']}, code {results['code_version']}, "
        f"run time {results['seconds']:.1f} s, started {results['started_at']}",
        "",
        "## Protocol",
        "",
    ]
    for key, value in results["protocol_notes"].items():
        lines.append(f"- {key}: {value}")
    main = results["main_metric"]
    headline = results["headline_metrics"]
    lines += ["", "## Methods", ""]
    for name, method in results["methods"].items():
        lines.append(f"- **{name}**: {method.get('about') or name}")
    lines += [
        "",
        "## Accuracy",
        "",
        f"Mean over judged queries; 95% bootstrap interval of {main}.",
        "",
    ]
    lines.append("| method | " + " | ".join(headline) + f" | {main} 95% CI |")
    lines.append("|---" * (len(headline) + 2) + "|")
    for name, method in results["methods"].items():
        figures = method["figures"]
        ci = method.get("ci", {}).get(main)
        cells = [_fmt(figures.get(m)) for m in headline]
        interval = f"{ci[0]:.4f} to {ci[1]:.4f}" if ci else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {interval} |")
    beyond = results.get("beyond_metrics", [])
    if beyond:
        lines += ["", "## Beyond accuracy", ""]
        lines.append("| method | " + " | ".join(beyond) + " |")
        lines.append("|---" * (len(beyond) + 1) + "|")
        for name, method in results["methods"].items():
            cells = [_fmt(method["figures"].get(m), 3) for m in beyond]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += _significance_lines(results.get("significance"), "Significance", "")
    lines += _significance_lines(
        results.get("significance_one_story"),
        "Significance, one item per story",
        " Every method's lists are held to one item per story by the evaluation's own judge "
        "(a copy or update of an item above it, or of the source, is dropped), as the engine's "
        "lists are.",
    )
    sweep = results.get("sweep")
    if sweep:
        best = sweep["best"]
        lines += [
            "",
            "## Sweep",
            "",
            f"{sweep['kind']} search, {len(sweep['trials'])} trials, "
            f"objective {sweep['objective']} "
            f"on the tuning sources ({sweep['tuning_queries']} queries, none of them reported).",
            "",
            f"Best ({best['objective']:.4f}): "
            + ", ".join(f"`{k} = {v:g}`" for k, v in best["config"].items()),
            "",
            f"Written to `{sweep['settings_file']}`; serve with "
            f"`NEWSREC_SETTINGS_FILE={sweep['settings_file']} newsrec serve`.",
        ]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(out).as_posix()})" for p in plots]
    lines += ["", "## Files", ""]
    for name, path in results["files"].items():
        lines.append(f"- {name}: `{path}`")
    recompute = results.get("recompute")
    if recompute:
        lines += ["", "Recompute a figure without newsrec:", "", "```python", recompute, "```"]
    path = out / "report.md"
    _write_atomically(path, ("\n".join(lines) + "\n").encode())
    return path
