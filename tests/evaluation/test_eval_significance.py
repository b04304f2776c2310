"""Bootstrap intervals and the paired randomisation test."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.significance import bootstrap_ci, paired_test


def test_bootstrap_interval_holds_the_mean() -> None:
    values = np.random.default_rng(1).random(200)
    low, high = bootstrap_ci(values, seed=0)
    assert low < values.mean() < high


def test_bootstrap_interval_of_a_constant_is_that_constant() -> None:
    assert bootstrap_ci(np.full(10, 0.25), seed=0) == (0.25, 0.25)


def test_same_seed_gives_the_same_interval() -> None:
    values = np.random.default_rng(2).random(50)
    assert bootstrap_ci(values, seed=5) == bootstrap_ci(values, seed=5)


def test_identical_methods_are_not_significantly_different() -> None:
    values = np.random.default_rng(3).random(100)
    assert paired_test(values, values, seed=0).p_value == 1.0


def test_a_consistent_gain_is_significant() -> None:
    rng = np.random.default_rng(4)
    base = rng.random(300)
    test = paired_test(base + 0.05 + rng.normal(0, 0.01, 300), base, seed=0, resamples=2000)
    assert test.p_value < 0.01
    assert test.ci_low > 0


def test_p_value_is_never_zero() -> None:
    test = paired_test(np.ones(40), np.zeros(40), seed=0, resamples=100)
    assert 0 < test.p_value <= 2 / 101


def test_paired_arrays_must_have_equal_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        paired_test(np.ones(3), np.ones(4), seed=0)


def test_empty_values_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci(np.array([]), seed=0)
