"""How sure a figure is: bootstrap confidence intervals and a paired randomisation test.

Both resample per-query values, so they apply to any per-query metric (nDCG@10, AUC ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PairedTest", "bootstrap_ci", "paired_test"]

_CHUNK = 1000


def _check(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of per-query values")
    return array


def bootstrap_ci(
    values: np.ndarray, *, seed: int, resamples: int = 1000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (Efron & Tibshirani, 1993).

    Raises:
        ValueError: empty ``values``, ``resamples`` < 1 or ``level`` outside (0, 1).
    """
    array = _check(values, "values")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        picks = rng.integers(0, array.size, size=(size, array.size))
        means[start : start + size] = array[picks].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Method A against method B on the same queries.

    Attributes:
        mean_difference: mean of ``a - b``.
        ci_low: lower end of the bootstrap interval of the mean difference.
        ci_high: upper end.
        p_value: two-sided p-value of the paired randomisation test.
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
    """Paired randomisation (sign-flip) test of ``mean(a - b) = 0`` (Smucker et al., CIKM 2007).

    Each resample flips the sign of every per-query difference with probability 1/2; the
    p-value is the share of resamples whose |mean| reaches the observed one, counting the
    observed arrangement itself (so it is never 0).

    Raises:
        ValueError: arrays empty or of different lengths.
    """
    first, second = _check(a, "a"), _check(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"paired arrays differ in length: {first.size} and {second.size}")
    diff = first - second
    observed = abs(float(diff.mean()))
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        signs = rng.integers(0, 2, size=(size, diff.size)) * 2 - 1
        means = np.abs((signs * diff).mean(axis=1))
        extreme += int((means >= observed - 1e-12).sum())
    low, high = bootstrap_ci(diff, seed=seed + 1, level=level)
    return PairedTest(
        mean_difference=float(diff.mean()),
        ci_low=low,
        ci_high=high,
        p_value=(extreme + 1) / (resamples + 1),
        queries=int(diff.size),
    )
