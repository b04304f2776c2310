"""Accuracy and beyond-accuracy figures on fixtures small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ranx import Qrels as RanxQrels
from ranx import Run as RanxRun
from ranx import evaluate as ranx_evaluate

from evaluation.metrics import (
    accuracy,
    accuracy_names,
    catalogue_coverage,
    impression_auc,
    impression_mrr,
    intra_list_diversity,
    judged_queries,
    mean_popularity_percentile,
    median_time_gap_days,
    story_duplicate_share,
    top_read_share,
)
from evaluation.runs import Qrels, Run

# q1 lists a (relevant), b, c (relevant); d is relevant but not listed.
RUN: Run = {"q1": [("a", 3.0), ("b", 2.0), ("c", 1.0)]}
QRELS: Qrels = {"q1": {"a": 1, "c": 1, "d": 1}}


def test_precision_at_k_counts_relevant_in_the_first_k_over_k() -> None:
    assert accuracy(RUN, QRELS, [2])["precision@2"][0] == pytest.approx(1 / 2)


def test_recall_at_k_divides_by_all_relevant_documents() -> None:
    assert accuracy(RUN, QRELS, [2])["recall@2"][0] == pytest.approx(1 / 3)


def test_ndcg_at_k_matches_the_hand_computed_value() -> None:
    # DCG@3 = 1 + 0 + 1/log2(4) = 1.5; IDCG@3 = 1 + 1/log2(3) + 1/2.
    expected = 1.5 / (1 + 1 / math.log2(3) + 0.5)
    assert accuracy(RUN, QRELS, [3])["ndcg@3"][0] == pytest.approx(expected, abs=1e-12)


def test_ndcg_uses_linear_gains_for_graded_relevance() -> None:
    graded: Qrels = {"q1": {"a": 2, "c": 1, "d": 3}}
    # DCG = 2 + 0 + 1/2; IDCG = 3 + 2/log2(3) + 1/2.
    expected = 2.5 / (3 + 2 / math.log2(3) + 0.5)
    assert accuracy(RUN, graded, [3])["ndcg@3"][0] == pytest.approx(expected, abs=1e-12)


def test_mrr_is_one_over_the_rank_of_the_first_relevant_item() -> None:
    run: Run = {"q1": [("b", 3.0), ("x", 2.0), ("c", 1.0)]}
    assert accuracy(run, QRELS, [3])["mrr"][0] == pytest.approx(1 / 3)


def test_hit_rate_is_zero_when_nothing_relevant_is_in_the_first_k() -> None:
    run: Run = {"q1": [("b", 3.0), ("c", 1.0)]}
    assert accuracy(run, QRELS, [1])["hit_rate@1"][0] == 0.0


def test_queries_without_relevant_documents_are_left_out() -> None:
    qrels: Qrels = {"q1": QRELS["q1"], "q2": {"a": 0}}
    assert judged_queries(qrels) == ["q1"]
    assert accuracy(RUN, qrels, [2])["ndcg@2"].shape == (1,)


def test_an_empty_list_scores_zero_everywhere() -> None:
    figures = accuracy({"q1": []}, QRELS, [5])
    assert all(float(values[0]) == 0.0 for values in figures.values())


def test_a_query_missing_from_the_run_scores_zero() -> None:
    assert accuracy({}, QRELS, [5])["ndcg@5"][0] == 0.0


def test_a_cut_off_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="cut-off"):
        accuracy(RUN, QRELS, [0])


def test_accuracy_agrees_with_ranx_on_random_runs() -> None:
    rng = np.random.default_rng(7)
    docs = [f"d{i}" for i in range(40)]
    qrels: Qrels = {}
    run: Run = {}
    for q in range(60):
        judged = rng.choice(40, size=int(rng.integers(1, 15)), replace=False)
        qrels[f"q{q}"] = {docs[i]: int(rng.integers(1, 4)) for i in judged}
        listed = rng.choice(40, size=int(rng.integers(1, 25)), replace=False)
        run[f"q{q}"] = [(docs[i], float(len(listed) - r)) for r, i in enumerate(listed)]
    ks = [1, 5, 10, 20]
    ours = accuracy(run, qrels, ks)
    names = accuracy_names(ks)
    theirs = ranx_evaluate(
        RanxQrels.from_dict(qrels),
        RanxRun.from_dict({q: dict(items) for q, items in run.items()}),
        names,
        return_mean=False,
    )
    for name in names:
        assert np.allclose(ours[name], theirs[name], atol=1e-9, rtol=0), name


def test_coverage_is_the_share_of_the_catalogue_listed_somewhere() -> None:
    run: Run = {"s1": [("a", 1.0), ("b", 0.5)], "s2": [("a", 1.0), ("c", 0.5)]}
    assert catalogue_coverage(run, 2, 6) == pytest.approx(3 / 6)
    assert catalogue_coverage(run, 1, 6) == pytest.approx(1 / 6)


def test_intra_list_diversity_is_the_mean_pairwise_cosine_distance() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    row_of = {"a": 0, "b": 1, "c": 2}
    run: Run = {"s": [("a", 1.0), ("b", 1.0), ("c", 1.0)]}
    # Pairs: a-b distance 1, a-c 0, b-c 1 -> mean 2/3.
    assert intra_list_diversity(run, 3, vectors, row_of) == pytest.approx(2 / 3)


def test_intra_list_diversity_is_none_without_a_list_of_two() -> None:
    vectors = np.eye(2, dtype=np.float32)
    assert intra_list_diversity({"s": [("a", 1.0)]}, 5, vectors, {"a": 0, "b": 1}) is None


def test_median_time_gap_is_measured_from_the_source_in_days() -> None:
    day = 86_400.0
    times = np.array([0.0, 1 * day, 3 * day, math.nan])
    row_of = {"s": 0, "a": 1, "b": 2, "u": 3}
    run: Run = {"s": [("a", 1.0), ("b", 1.0), ("u", 1.0)]}
    assert median_time_gap_days(run, 3, times, row_of) == pytest.approx(2.0)


def test_story_duplicate_share_counts_lists_with_a_same_story_pair() -> None:
    run: Run = {"s1": [("a", 1.0), ("a2", 1.0)], "s2": [("a", 1.0), ("b", 1.0)]}
    same = {frozenset(("a", "a2"))}
    share = story_duplicate_share(run, 2, lambda x, y: frozenset((x, y)) in same)
    assert share == pytest.approx(1 / 2)


def test_popularity_percentile_is_one_half_for_an_unbiased_pick() -> None:
    popularity = np.array([1.0, 2.0, 3.0, 4.0])
    row_of = {"a": 0, "b": 1, "c": 2, "d": 3}
    run: Run = {"s": [("a", 1.0), ("d", 1.0)]}
    # Percentiles (below + half of ties incl. itself) / n: a 0.125, d 0.875.
    assert mean_popularity_percentile(run, 2, popularity, row_of) == pytest.approx(0.5)


def test_popularity_percentile_is_none_when_all_counts_are_equal() -> None:
    assert mean_popularity_percentile({"s": [("a", 1.0)]}, 1, np.zeros(3), {"a": 0}) is None


def test_impression_auc_counts_ties_as_one_half() -> None:
    labels = np.array([1, 0, 0])
    scores = np.array([0.5, 0.5, 0.1])
    assert impression_auc(labels, scores) == pytest.approx((0.5 + 1) / 2)


def test_impression_mrr_averages_reciprocal_ranks_of_all_clicks() -> None:
    labels = np.array([0, 1, 1])
    scores = np.array([0.9, 0.8, 0.1])  # clicks at ranks 2 and 3
    assert impression_mrr(labels, scores) == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_impression_metrics_refuse_an_impression_without_clicks() -> None:
    with pytest.raises(ValueError, match="clicked"):
        impression_auc(np.array([0, 0]), np.array([0.1, 0.2]))


def test_top_read_share_counts_lists_holding_one_of_the_most_read() -> None:
    run: Run = {"s1": [("a", 2.0), ("b", 1.0)], "s2": [("c", 2.0), ("d", 1.0)]}
    counts = np.array([0.0, 1.0, 9.0, 5.0])  # ids a, b, c, d: c and d are the top two
    assert top_read_share(run, 2, counts, ["a", "b", "c", "d"], top=2) == pytest.approx(1 / 2)
    assert top_read_share(run, 1, counts, ["a", "b", "c", "d"], top=1) == pytest.approx(1 / 2)


def test_top_read_share_is_none_without_reads() -> None:
    assert top_read_share({"s": [("a", 1.0)]}, 1, np.zeros(1), ["a"]) is None


def test_accuracy_refuses_tied_scores() -> None:
    with pytest.raises(ValueError, match="does not drop"):
        accuracy({"q1": [("a", 1.0), ("b", 1.0)]}, QRELS, [2])
