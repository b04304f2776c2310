"""Specification of maximal marginal relevance, on values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.ranking.diversity import mmr


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


# Two angles of one event (a, b: cosine 0.96) and another event (c: cosine 0 with both).
VECTORS = np.stack([_unit(1, 0, 0), _unit(0.96, 0.28, 0), _unit(0, 0, 1)])
COSINE = VECTORS @ VECTORS.T
RELEVANCE = np.array([0.9, 0.85, 0.6])


def test_lambda_one_is_the_relevance_order_without_penalty() -> None:
    picked = mmr(RELEVANCE, COSINE, k=3, lambda_=1.0)
    assert picked.order.tolist() == [0, 1, 2]
    assert picked.penalty.tolist() == [0.0, 0.0, 0.0]


def test_a_second_angle_of_the_same_event_gives_way_to_another_event() -> None:
    # lambda 0.5: weight (1 - 0.5) / 0.5 = 1. After a: b scores 0.85 - 0.96 = -0.11,
    # c scores 0.6 - 0 = 0.6, so c comes second; then b scores 0.85 - max(0.96, 0.28) = -0.11.
    picked = mmr(RELEVANCE, COSINE, k=3, lambda_=0.5)
    assert picked.order.tolist() == [0, 2, 1]
    np.testing.assert_allclose(picked.penalty, [0.0, 0.0, 0.96], atol=1e-6)


def test_scores_after_penalty_never_increase_down_the_list() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(30, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = rng.uniform(size=30)
    picked = mmr(relevance, vectors @ vectors.T, k=10, lambda_=0.7)
    scores = relevance[picked.order] - picked.penalty
    assert np.all(np.diff(scores) <= 1e-12)


def test_negative_cosines_give_no_bonus() -> None:
    vectors = np.stack([_unit(1, 0), _unit(-1, 0)])
    picked = mmr(np.array([1.0, 0.5]), vectors @ vectors.T, k=2, lambda_=0.5)
    assert picked.penalty.tolist() == [0.0, 0.0]


def test_asking_for_more_than_there_is_returns_them_all() -> None:
    assert mmr(RELEVANCE, COSINE, k=10, lambda_=0.8).order.size == 3


def test_no_items_gives_an_empty_list() -> None:
    picked = mmr(np.zeros(0), np.zeros((0, 0), np.float32), k=5, lambda_=0.8)
    assert picked.order.size == 0 and picked.penalty.size == 0


@pytest.mark.parametrize("lambda_", [0.0, -0.1, 1.5])
def test_lambda_outside_zero_one_is_refused(lambda_: float) -> None:
    with pytest.raises(ValueError, match="lambda"):
        mmr(RELEVANCE, COSINE, k=2, lambda_=lambda_)
