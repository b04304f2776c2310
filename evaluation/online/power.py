"""The power line: how much feedback a test needs to see the lift asked for, against what it has.

- A/B: with the control's CTR p0 and a relative lift L, the variant's CTR would be
  p1 = p0 (1 + L). Cohen's effect size h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0)) (``statsmodels``
  ``proportion_effectsize``) and the two-sided two-sample z-test's size per group for the power
  asked at alpha (``statsmodels`` ``NormalIndPower.solve_power``, equal groups) give the
  impressions each variant needs.
- Interleaving: L is read as the preferred team winning a share 0.5 (1 + L) of the decisive
  lists (wins + losses) instead of half; the one-sample z-test's size (``NormalIndPower``,
  ``ratio=0``) for that share against 0.5 approximates the sign test's.

Below the size, a real lift of L would often go unseen: "no winner" then means "not enough
feedback", not "no difference".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["PowerLine", "power_line", "sign_test_power_line"]


@dataclass(frozen=True, slots=True)
class PowerLine:
    """The sample a test needs, against the one it has.

    Attributes:
        unit: what is counted: "impressions per variant" or "decisive lists".
        baseline: the control's CTR (A/B; None while unknown) or 0.5 (interleaving).
        target: the rate the lift asked for would give.
        needed: how many units the test needs; None when the baseline cannot be sized (no
            impressions or no click yet).
        have: how many it has (A/B: the smallest variant's impressions).
        enough: have >= needed; None when unknown.
        warning: one sentence for the report when the sample is too small or unsized.
    """

    method: Literal["ab", "interleaving"]
    unit: str
    min_lift: float
    alpha: float
    power: float
    baseline: float | None
    target: float | None
    needed: int | None
    have: int
    enough: bool | None
    warning: str | None


def _check(min_lift: float, alpha: float, power: float) -> None:
    if not min_lift > 0:
        raise ValueError(f"min_lift must be above 0 (a relative lift, 0.05 = 5%), got {min_lift}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")


def _size(target: float, baseline: float, *, alpha: float, power: float, ratio: float) -> int:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = abs(float(proportion_effectsize(target, baseline)))
    size = NormalIndPower().solve_power(
        effect_size=effect, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    return math.ceil(float(size))


def _line(
    method: Literal["ab", "interleaving"],
    unit: str,
    baseline: float | None,
    target: float | None,
    needed: int | None,
    have: int,
    *,
    min_lift: float,
    alpha: float,
    power: float,
    unsized: str | None,
) -> PowerLine:
    enough = None if needed is None else have >= needed
    warning = unsized
    if enough is False:
        warning = (
            f"too few {'impressions' if method == 'ab' else unit} to detect a {min_lift:.0%} "
            f"lift: {needed:,} {unit} needed for {power:.0%} power at alpha {alpha:g}, "
            + ("the smallest variant has" if method == "ab" else "the experiment has")
            + f" {have:,}"
        )
    return PowerLine(
        method, unit, min_lift, alpha, power, baseline, target, needed, have, enough, warning
    )


def power_line(
    control_ctr: float | None, smallest_variant: int, *, min_lift: float, alpha: float, power: float
) -> PowerLine:
    """Size an A/B test for a relative ``min_lift`` over ``control_ctr``; ``smallest_variant``
    is the fewest impressions any compared variant has.

    Raises:
        ValueError: ``min_lift`` is not above 0, or ``alpha`` or ``power`` is outside (0, 1).
    """
    _check(min_lift, alpha, power)
    unit = "impressions per variant"
    if control_ctr is None or control_ctr <= 0:
        return _line(
            "ab", unit, control_ctr, None, None, smallest_variant,
            min_lift=min_lift, alpha=alpha, power=power,
            unsized="the control has no clicks yet, so the sample needed cannot be sized",
        )  # fmt: skip
    target = min(control_ctr * (1 + min_lift), 1.0)
    if target == control_ctr:
        return _line(
            "ab", unit, control_ctr, target, None, smallest_variant,
            min_lift=min_lift, alpha=alpha, power=power,
            unsized=f"the control's CTR ({control_ctr:.3f}) leaves no room for the lift asked",
        )  # fmt: skip
    needed = _size(target, control_ctr, alpha=alpha, power=power, ratio=1.0)
    return _line(
        "ab", unit, control_ctr, target, needed, smallest_variant,
        min_lift=min_lift, alpha=alpha, power=power, unsized=None,
    )  # fmt: skip


def sign_test_power_line(
    decisive: int, *, min_lift: float, alpha: float, power: float
) -> PowerLine:
    """Size an interleaving sign test for a team winning 0.5 (1 + ``min_lift``) of the
    ``decisive`` lists (wins + losses).

    Raises:
        ValueError: as :func:`power_line`; also a ``min_lift`` of 1 or more (a share above 1).
    """
    _check(min_lift, alpha, power)
    if min_lift >= 1:
        raise ValueError(f"min_lift must be below 1 for interleaving (a win share), got {min_lift}")
    target = 0.5 * (1 + min_lift)
    needed = _size(target, 0.5, alpha=alpha, power=power, ratio=0.0)
    return _line(
        "interleaving", "decisive lists", 0.5, target, needed, decisive,
        min_lift=min_lift, alpha=alpha, power=power, unsized=None,
    )  # fmt: skip
