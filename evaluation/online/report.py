"""What ``newsrec experiments report`` leaves behind: ``results.json``, ``report.md`` and one PNG
of CTR by position per experiment.

``results.json`` is :func:`evaluation.report.write_results`'s (format version, ``.sha256``
beside it); every file is written to a temporary name and renamed, so a reader never sees half
a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.report import _pyplot, _write_atomically, write_results

__all__ = ["plot_ctr_by_position", "write_online_report"]


def _file_name(experiment: str) -> str:
    return "ctr-by-position-" + re.sub(r"[^A-Za-z0-9._-]", "_", experiment) + ".png"


def plot_ctr_by_position(
    by_position: Mapping[str, Sequence[Mapping[str, Any]]], path: Path, *, title: str
) -> Path:
    """One line per variant (or team): CTR at each position with its interval as error bars."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, (name, points) in enumerate(by_position.items()):
        shown = [p for p in points if p["rate"]["value"] is not None]
        if not shown:
            continue
        # Nudged sideways so that the variants' error bars at one position do not overlap.
        nudge = (i - (len(by_position) - 1) / 2) * 0.06
        xs = [p["position"] + nudge for p in shown]
        ys = [p["rate"]["value"] for p in shown]
        # max(0, ...): at 0 or 1 clicks per seen the interval's end meets the rate, give or
        # take a rounding error that matplotlib refuses as a negative bar.
        below = [max(0.0, y - p["rate"]["low"]) for y, p in zip(ys, shown, strict=True)]
        above = [max(0.0, p["rate"]["high"] - y) for y, p in zip(ys, shown, strict=True)]
        ax.errorbar(xs, ys, yerr=[below, above], marker="o", capsize=3, label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("position")
    ax.set_ylabel("CTR")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    os.close(handle)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path


def _has_points(by_position: Mapping[str, Sequence[Any]]) -> bool:
    return any(by_position.values())


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _interval(low: float | None, high: float | None, *, signed: bool = False) -> str:
    if low is None or high is None:
        return "-"
    return f"{low:+.4f} to {high:+.4f}" if signed else f"{low:.4f} to {high:.4f}"


def _percent_interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{low:+.2%} to {high:+.2%}"


def _verdict_line(name: str, result: Mapping[str, Any], alpha: float) -> str:
    verdict = result["verdict"]
    level = f"{verdict['confidence']:.0%}"
    better, p = verdict["better"], verdict["p_value"]
    if better is not None:
        others = [v for v in result["variants"] if v != better]
        return (
            f"**Verdict: {better} is better than {', '.join(others)}** at {level} confidence "
            f"(p = {_p(p)} < {alpha:g})."
        )
    return f"**Verdict: no variant is better** at {level} confidence" + (
        f" (smallest p = {_p(p)})." if p is not None else " (nothing could be tested yet)."
    )


def _ab_table(variants: Mapping[str, Mapping[str, Any]], level: str) -> list[str]:
    lines = [
        f"| variant | impressions | clicks | clicked impressions | readers | CTR | {level} CI "
        f"| lift | {level} CI | p-value | reader p |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    for name, f in variants.items():
        lift = "-" if f["lift"] is None else f"{f['lift']:+.2%}"
        lines.append(
            f"| {name} | {_num(f['impressions'])} | {_num(f['clicks'])} | "
            f"{_num(f['clicked_impressions'])} | {_num(f['readers'])} | "
            f"{_num(f['ctr']['value'])} | {_interval(f['ctr']['low'], f['ctr']['high'])} | "
            f"{lift} | {_percent_interval(f['lift_low'], f['lift_high'])} | "
            f"{_p(f['p_value'])} | {_p(f['reader_p_value'])} |"
        )
    return lines


def _outcomes_row(unit: str, o: Mapping[str, Any]) -> str:
    pref = "-" if o["preference"] is None else f"{o['preference']:+.4f}"
    return (
        f"| {unit} | {_num(o['units'])} | {_num(o['wins'])} | {_num(o['losses'])} | "
        f"{_num(o['ties'])} | {_num(o['no_clicks'])} | {pref} | "
        f"{_interval(o['low'], o['high'], signed=True)} | {_p(o['p_value'])} |"
    )


def _ab_section(result: Mapping[str, Any], level: str) -> list[str]:
    ab = result["ab"]
    outside = result["outside"]
    lines = [
        "Unit: an impression (one served list); CTR = clicked impressions / impressions. "
        "Readers, not impressions, are randomised: one reader's impressions are not "
        "independent, so the reader p-value checks the same comparison on per-reader CTRs.",
        "",
        f"- test: {ab['test']}",
        f"- reader check: {ab['reader_test']}",
        f"- lift: CTR / control CTR - 1, interval from the relative risk "
        f"(scipy.stats.contingency.relative_risk); control **{result['control']}**",
        "",
        *_ab_table(ab["variants"], level),
        f"| default (outside the experiment) | {_num(outside['impressions'])} | "
        f"{_num(outside['clicks'])} | {_num(outside['clicked_impressions'])} | - | - | - | - "
        "| - | - | - |",
    ]
    if len(ab["lists"]) > 1:
        for list_name, variants in ab["lists"].items():
            lines += ["", f"### List {list_name}", "", *_ab_table(variants, level)]
    return lines


def _power_section(power: Mapping[str, Any] | None) -> list[str]:
    if not power:
        return []
    lines = ["", "### Power", ""]
    if power["needed"] is not None and power["method"] == "ab":
        lines.append(
            f"To detect a {power['min_lift']:.0%} relative lift over the control's CTR "
            f"({power['baseline']:.4f}) with {power['power']:.0%} power at alpha "
            f"{power['alpha']:g}, each variant needs {power['needed']:,} impressions "
            f"(statsmodels NormalIndPower, Cohen's h); the smallest has {power['have']:,}."
        )
    elif power["needed"] is not None:
        lines.append(
            f"To detect a team winning {power['target']:.1%} of the decisive lists (a "
            f"{power['min_lift']:.0%} lift over half) with {power['power']:.0%} power at alpha "
            f"{power['alpha']:g}, the sign test needs {power['needed']:,} decisive lists (wins "
            f"+ losses; one-sample z approximation, statsmodels NormalIndPower); the "
            f"experiment has {power['have']:,}."
        )
    if power["warning"]:
        lines += ["", f"**Warning: {power['warning']}.**"]
    return lines


def _interleaving_section(result: Mapping[str, Any], level: str) -> list[str]:
    figures = result["interleaving"]
    first, second = figures["first"], figures["second"]
    lines = [
        f"Team-draft interleaving of **{first}** and **{second}**: a click credits the team "
        "whose ranking placed the item. A list is a win for the team with more credited clicks, "
        "a tie when equal; per reader, credits are summed over the reader's lists first. "
        f"Preference = (wins - losses) / (wins + losses + ties), for {first}: above 0, readers "
        f"prefer {first}. The verdict uses the per-list test: team draft draws each list anew.",
        "",
        f"- test: {figures['test']}; interval: percentile bootstrap of the preference",
        f"- clicks credited: {first} {figures['credits'][first]:,}, "
        f"{second} {figures['credits'][second]:,}",
        "",
        f"| unit | units | wins ({first}) | losses | ties | no clicks | preference "
        f"| {level} CI | p-value |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
        _outcomes_row("list", figures["per_list"]),
        _outcomes_row("reader", figures["per_reader"]),
    ]
    if len(figures["lists"]) > 1:
        for list_name, outcomes in figures["lists"].items():
            lines.append(_outcomes_row(f"list in {list_name}", outcomes))
    outside = result["outside"]
    lines += [
        "",
        f"Outside the experiment (variant default): {outside['impressions']:,} impressions, "
        f"{outside['clicks']:,} clicks.",
    ]
    return lines


def _positions_section(result: Mapping[str, Any], plot: str | None) -> list[str]:
    by_position = result["by_position"]
    if not _has_points(by_position):
        return []
    names = list(by_position)
    positions = sorted({p["position"] for points in by_position.values() for p in points})
    what = "team" if result["kind"] == "interleaving" else "variant"
    lines = [
        "",
        "### CTR by position",
        "",
        f"Clicks at a position / impressions in which it was seen, per {what}.",
        "",
        "| position | " + " | ".join(names) + " |",
        "|---:|" + "---:|" * len(names),
    ]
    for position in positions:
        cells = []
        for name in names:
            point = next((p for p in by_position[name] if p["position"] == position), None)
            cells.append("-" if point is None else _num(point["rate"]["value"]))
        lines.append(f"| {position} | " + " | ".join(cells) + " |")
    if plot:
        lines += ["", f"![CTR by position]({plot})"]
    return lines


def _report_lines(results: Mapping[str, Any], plots: Mapping[str, str]) -> list[str]:
    alpha = results["alpha"]
    level = f"{results['confidence']:.0%}"
    feedback = results["feedback"]
    outside = results["outside_experiments"]
    lines = [
        "# newsrec online experiments",
        "",
        f"- generated {results.get('generated_at', '-')}"
        + (f" by `{results['command']}`" if results.get("command") else ""),
        f"- home: {results.get('home', '-')}",
        f"- alpha {alpha:g}: intervals at {level}; power line for a {results['min_lift']:.0%} "
        f"relative lift at {results['power']:.0%} power",
        f"- feedback: {feedback['lists']:,} served lists with an impression, "
        f"{feedback['clicks']:,} clicks ({feedback['orphan_clicks']:,} on lists with no "
        "impression, left out)",
        f"- outside any experiment: {outside['impressions']:,} impressions, "
        f"{outside['clicks']:,} clicks (not compared)",
    ]
    if not results["experiments"]:
        lines += ["", "No experiment in the feedback log yet."]
    for name, result in results["experiments"].items():
        lines += [
            "",
            f"## Experiment {name} ({result['kind']})",
            "",
            _verdict_line(name, result, alpha),
            "",
            f"Variants {', '.join(result['variants']) or '-'} (from the {result['design_from']});"
            f" {result['readers']:,} readers.",
            "",
        ]
        if result.get("ab"):
            lines += _ab_section(result, level)
        elif result.get("interleaving"):
            lines += _interleaving_section(result, level)
        lines += _power_section(result.get("power"))
        lines += _positions_section(result, plots.get(name))
        power_warning = (result.get("power") or {}).get("warning")
        others = [w for w in result["warnings"] if w != power_warning]  # said under Power
        if others:
            lines += ["", "### Warnings", ""]
            lines += [f"- {warning}" for warning in others]
    return lines


def write_online_report(out: Path, results: Mapping[str, Any]) -> list[Path]:
    """Write the PNGs, ``results.json`` (with the PNGs' names) and ``report.md`` into ``out``
    (created if missing); returns their paths, ``results.json`` first."""
    out.mkdir(parents=True, exist_ok=True)
    plots: dict[str, str] = {}
    paths: list[Path] = []
    for name, result in results["experiments"].items():
        if _has_points(result["by_position"]):
            path = plot_ctr_by_position(
                result["by_position"], out / _file_name(name), title=f"{name}: CTR by position"
            )
            plots[name] = path.name
            paths.append(path)
    full = dict(results)
    full["experiments"] = {
        name: {**result, "plot": plots.get(name)} for name, result in results["experiments"].items()
    }
    results_path = write_results(out, full)
    report = out / "report.md"
    _write_atomically(report, ("\n".join(_report_lines(full, plots)) + "\n").encode())
    return [results_path, report, *paths]
