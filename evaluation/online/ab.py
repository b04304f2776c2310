"""A/B figures: each variant's click-through rate, its lift over the control, and how sure.

CTR is clicked impressions / impressions: the share of served lists with at least one click,
so a reader clicking three items of one list counts once and the rate stays a proportion.

- interval of a CTR: Wilson score interval (``statsmodels`` ``proportion_confint``, method
  ``"wilson"``);
- lift of a variant: CTR(variant) / CTR(control) - 1, its interval from the relative risk's
  (Katz log interval, ``scipy.stats.contingency.relative_risk``);
- p-value: two-sided two-proportion z-test with pooled variance (``statsmodels``
  ``proportions_ztest``); with more than one variant beside the control, Holm-adjusted
  (``statsmodels`` ``multipletests``);
- reader-level check: readers, not impressions, are randomised, and one reader's impressions
  are not independent. Each reader's own CTR is compared between variant and control with a
  two-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``): when it disagrees with the
  impression-level test, clustering is inflating the evidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from evaluation.online.served import ServedList

__all__ = ["PositionRate", "Rate", "VariantFigures", "compare_variants", "ctr_by_position", "rate"]


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportion with its Wilson interval at the stated level."""

    successes: int
    trials: int
    value: float | None
    low: float | None
    high: float | None


def rate(successes: int, trials: int, *, alpha: float) -> Rate:
    """``successes / trials`` with its ``1 - alpha`` Wilson interval; all None with no trials."""
    from statsmodels.stats.proportion import proportion_confint

    if trials == 0:
        return Rate(successes, trials, None, None, None)
    low, high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    return Rate(successes, trials, successes / trials, float(low), float(high))


@dataclass(frozen=True, slots=True)
class VariantFigures:
    """One variant's figures against the control (the control's own lift fields are None).

    Attributes:
        impressions: served lists.
        clicks: distinct clicked positions over those lists.
        clicked_impressions: lists with at least one click.
        readers: distinct readers (an anonymous answer counts as one).
        ctr: clicked_impressions / impressions, with its interval.
        lift, lift_low, lift_high: relative lift over the control and its interval.
        p_value: two-sided z-test against the control (Holm-adjusted with several variants).
        p_value_unadjusted: the same before the adjustment.
        reader_p_value: Mann-Whitney U on per-reader CTRs against the control.
    """

    name: str
    impressions: int
    clicks: int
    clicked_impressions: int
    readers: int
    ctr: Rate
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    p_value: float | None = None
    p_value_unadjusted: float | None = None
    reader_p_value: float | None = None


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _lift(
    clicked: int, shown: int, control_clicked: int, control_shown: int, alpha: float
) -> tuple[float | None, float | None, float | None]:
    from scipy.stats.contingency import relative_risk

    if min(clicked, control_clicked) == 0 or min(shown, control_shown) == 0:
        return None, None, None  # a ratio with a zero has no finite log interval
    risk = relative_risk(clicked, shown, control_clicked, control_shown)
    interval = risk.confidence_interval(confidence_level=1 - alpha)
    return (
        _finite(risk.relative_risk - 1),
        _finite(interval.low - 1),
        _finite(interval.high - 1),
    )


def _z_test(clicked: int, shown: int, control_clicked: int, control_shown: int) -> float | None:
    from statsmodels.stats.proportion import proportions_ztest

    total = clicked + control_clicked
    if min(shown, control_shown) == 0 or total in (0, shown + control_shown):
        return None  # every list clicked or none: no variance, nothing to test
    _, p = proportions_ztest([clicked, control_clicked], [shown, control_shown])
    return _finite(float(p))


def _reader_rates(lists: Sequence[ServedList]) -> list[float]:
    shown: defaultdict[str, int] = defaultdict(int)
    clicked: defaultdict[str, int] = defaultdict(int)
    for served in lists:
        shown[served.unit] += 1
        clicked[served.unit] += bool(served.clicked)
    return [clicked[unit] / shown[unit] for unit in shown]


def _reader_test(rates: list[float], control_rates: list[float]) -> float | None:
    from scipy.stats import mannwhitneyu

    if not rates or not control_rates or len(set(rates) | set(control_rates)) < 2:
        return None
    return _finite(float(mannwhitneyu(rates, control_rates, alternative="two-sided").pvalue))


def compare_variants(
    lists: Sequence[ServedList], variants: Sequence[str], control: str, *, alpha: float
) -> dict[str, VariantFigures]:
    """Figures of each of ``variants`` over the lists it served, in the order given.

    Raises:
        ValueError: ``control`` is not one of ``variants``.
    """
    from statsmodels.stats.multitest import multipletests

    if control not in variants:
        raise ValueError(f"control {control!r} is not a variant (variants: {', '.join(variants)})")
    by_variant: dict[str, list[ServedList]] = {name: [] for name in variants}
    for served in lists:
        if served.variant in by_variant:
            by_variant[served.variant].append(served)
    base = {
        name: VariantFigures(
            name=name,
            impressions=len(group),
            clicks=sum(len(s.clicked) for s in group),
            clicked_impressions=sum(1 for s in group if s.clicked),
            readers=len({s.unit for s in group}),
            ctr=rate(sum(1 for s in group if s.clicked), len(group), alpha=alpha),
        )
        for name, group in by_variant.items()
    }
    ref = base[control]
    control_rates = _reader_rates(by_variant[control])
    raw = {
        name: _z_test(
            f.clicked_impressions, f.impressions, ref.clicked_impressions, ref.impressions
        )
        for name, f in base.items()
        if name != control
    }
    tested = [name for name, p in raw.items() if p is not None]
    adjusted = {name: float(raw[name] or 0.0) for name in tested}
    if len(tested) > 1:  # Holm leaves one test's p-value as it is
        corrected = multipletests([raw[name] for name in tested], method="holm")[1]
        adjusted = {name: float(p) for name, p in zip(tested, corrected, strict=True)}
    figures = {}
    for name, f in base.items():
        if name == control:
            figures[name] = f
            continue
        lift, low, high = _lift(
            f.clicked_impressions, f.impressions, ref.clicked_impressions, ref.impressions, alpha
        )
        figures[name] = VariantFigures(
            name=f.name,
            impressions=f.impressions,
            clicks=f.clicks,
            clicked_impressions=f.clicked_impressions,
            readers=f.readers,
            ctr=f.ctr,
            lift=lift,
            lift_low=low,
            lift_high=high,
            p_value=adjusted.get(name),
            p_value_unadjusted=raw[name],
            reader_p_value=_reader_test(_reader_rates(by_variant[name]), control_rates),
        )
    return figures


@dataclass(frozen=True, slots=True)
class PositionRate:
    """Clicks at one position over the lists in which that position was seen."""

    position: int
    rate: Rate


def ctr_by_position(
    lists: Sequence[ServedList], names: Sequence[str], *, alpha: float, by_team: bool = False
) -> dict[str, list[PositionRate]]:
    """Per variant in ``names``, the click rate of each position (1-based) with its Wilson
    interval; with ``by_team``, per interleaving team over the positions that team held.

    A position counts as seen in a list when the impression says so (all positions when it
    names none) or when it was clicked.
    """
    seen: dict[str, defaultdict[int, int]] = {name: defaultdict(int) for name in names}
    hits: dict[str, defaultdict[int, int]] = {name: defaultdict(int) for name in names}
    for served in lists:
        for position in range(1, served.length + 1):
            if by_team:
                group = served.teams[position - 1] if position <= len(served.teams) else None
            else:
                group = served.variant
            if group not in seen:
                continue
            clicked = position in served.clicked
            if clicked or served.seen(position):
                seen[group][position] += 1
                hits[group][position] += clicked
    return {
        name: [
            PositionRate(p, rate(hits[name][p], seen[name][p], alpha=alpha))
            for p in sorted(seen[name])
        ]
        for name in names
    }
