"""Specification of the scoring formula and its signals, on values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.ranking.scoring import Weights, blend
from recommender.signals.popularity import log_popularity, popularity_reference
from recommender.signals.recency import SECONDS_PER_DAY, recency_around


def test_recency_halves_after_one_half_life_on_each_side() -> None:
    source = 100 * SECONDS_PER_DAY
    candidates = np.array([source - 7 * SECONDS_PER_DAY, source, source + 3 * SECONDS_PER_DAY])
    got = recency_around(candidates, source, half_life_before_days=7, half_life_after_days=3)
    np.testing.assert_allclose(got, [0.5, 1.0, 0.5])


def test_recency_of_undated_candidate_is_zero() -> None:
    got = recency_around(np.array([np.nan]), 0.0, half_life_before_days=1, half_life_after_days=1)
    assert got.tolist() == [0.0]


def test_recency_without_source_date_is_all_zero() -> None:
    got = recency_around(
        np.array([0.0, 1.0]), np.nan, half_life_before_days=1, half_life_after_days=1
    )
    assert got.tolist() == [0.0, 0.0]


def test_log_popularity_is_bounded_by_the_reference() -> None:
    got = log_popularity(np.array([0.0, 9.0, 99.0, 10_000.0]), reference=99.0)
    np.testing.assert_allclose(got, [0.0, np.log(10) / np.log(100), 1.0, 1.0], rtol=1e-6)


def test_one_viral_story_does_not_set_the_reference() -> None:
    counts = np.array([10.0] * 200 + [1_000_000.0])
    assert popularity_reference(counts) == pytest.approx(10.0)


def test_reference_of_no_counts_is_one() -> None:
    assert popularity_reference(np.zeros(5)) == 1.0


def test_parts_add_up_to_the_blended_score() -> None:
    parts = blend(np.array([0.8]), np.array([0.5]), np.array([0.25]), Weights(0.7, 0.2, 0.1))
    assert parts.total[0] == pytest.approx(0.7 * 0.8 + 0.2 * 0.5 + 0.1 * 0.25)
    assert parts.similarity[0] + parts.recency[0] + parts.popularity[0] == pytest.approx(
        parts.total[0]
    )


def test_weight_override_refuses_negative_weights() -> None:
    with pytest.raises(ValueError, match="popularity"):
        Weights(1, 0, 0).overridden(popularity=-1)
