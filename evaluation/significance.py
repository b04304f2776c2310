"""How sure a figure is: scipy's bootstrap intervals and its paired permutation test.

Both resample per-query values, so they apply to any per-query metric (nDCG@10, AUC ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["PairedTest", "bootstrap_ci", "paired_test"]


def _check(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of per-query values")
    return array


def bootstrap_ci(
    values: np.ndarray, *, seed: int, resamples: int = 1000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (``scipy.stats.bootstrap``).

    Raises:
        ValueError: empty ``values``, ``resamples`` < 1 or ``level`` outside (0, 1).
    """
    array = _check(values, "values")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    if float(array.min()) == float(array.max()):
        return float(array[0]), float(array[0])  # every resample has the same mean
    result = stats.bootstrap(
        (array,),
        np.mean,
        n_resamples=resamples,
        confidence_level=level,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Method A against method B on the same queries.

    Attributes:
        mean_difference: mean of ``a - b``.
        ci_low: lower end of the bootstrap interval of the mean difference.
        ci_high: upper end.
        p_value: two-sided p-value of the paired permutation test.
        queries: how many paired queries.
    """

    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    queries: int


def paired_test(
    a: np.ndarray, b: np.ndarray, *, seed: int, resamples: int = 10_000, level: float = 0.95
) -> PairedTest:
    """Paired permutation (sign-flip) test of ``mean(a - b) = 0`` (Smucker et al., CIKM 2007).

    ``scipy.stats.permutation_test`` with ``permutation_type="samples"`` flips the sign of each
    per-query difference; its p-value counts the observed arrangement, so it is never 0.

    Raises:
        ValueError: arrays empty or of different lengths.
    """
    first, second = _check(a, "a"), _check(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"paired arrays differ in length: {first.size} and {second.size}")
    diff = first - second
    if not diff.any():
        p_value = 1.0  # no difference to test; scipy warns on a degenerate distribution
    else:
        p_value = float(
            stats.permutation_test(
                (diff,),
                np.mean,
                permutation_type="samples",
                n_resamples=resamples,
                vectorized=True,
                alternative="two-sided",
                rng=np.random.default_rng(seed),
            ).pvalue
        )
    low, high = bootstrap_ci(diff, seed=seed + 1, level=level)
    return PairedTest(
        mean_difference=float(diff.mean()),
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        queries=int(diff.size),
    )
