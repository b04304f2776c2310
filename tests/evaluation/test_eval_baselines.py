"""Baselines and list selection on tiny corpora with hand-computed scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.baselines import (
    Bm25Scorer,
    EmbeddingScorer,
    PopularityScorer,
    RandomScorer,
    TfidfScorer,
    scorer_run,
)
from evaluation.candidates import CandidateRule
from evaluation.corpus import Corpus
from evaluation.runs import top_k

DAY = 86_400.0


def _corpus(titles: list[str], times: list[float] | None = None) -> Corpus:
    n = len(titles)
    vectors = np.eye(n, dtype=np.float32)
    return Corpus(
        ids=[f"a{i}" for i in range(n)],
        doc_ids=np.arange(1, n + 1),
        titles=titles,
        bodies=[""] * n,
        published_ts=np.array(times if times is not None else [0.0] * n),
        popularity=np.arange(n, dtype=np.float64),
        vectors=vectors,
    )


def test_bm25_matches_the_formula_on_a_two_document_corpus() -> None:
    scorer = Bm25Scorer(["cocoa harvest", "cocoa"], k1=1.2, b=0.75)
    # Query = terms of doc 1 {cocoa}; df(cocoa) = 2 of N = 2; avgdl = 1.5; |d0| = 2.
    idf = math.log1p((2 - 2 + 0.5) / (2 + 0.5))
    expected = idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * 2 / 1.5))
    assert scorer.scores(np.array([1]))[0, 0] == pytest.approx(expected, rel=1e-6)


def test_bm25_refuses_b_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="BM25"):
        Bm25Scorer(["a b"], b=1.5)


def test_tfidf_ranks_the_article_sharing_rare_terms_first() -> None:
    corpus = _corpus(["cocoa harvest brazil", "cocoa harvest ivory", "oil prices rise"])
    scores = TfidfScorer(corpus.texts).scores(np.array([0]))[0]
    assert scores[1] > scores[2] == 0.0


def test_random_scores_are_reproducible_per_seed_and_source() -> None:
    first = RandomScorer(10, seed=3).scores(np.array([4, 5]))
    again = RandomScorer(10, seed=3).scores(np.array([5, 4]))
    assert np.array_equal(first[0], again[1])
    assert not np.array_equal(first, RandomScorer(10, seed=4).scores(np.array([4, 5])))


def test_most_popular_gives_every_source_the_same_ranking() -> None:
    scores = PopularityScorer(np.array([3.0, 9.0, 1.0])).scores(np.array([0, 2]))
    assert np.array_equal(scores[0], scores[1])


def test_embedding_scores_are_cosines() -> None:
    vectors = np.array([[3.0, 4.0], [4.0, 3.0]], dtype=np.float32)
    assert EmbeddingScorer(vectors).scores(np.array([0]))[0, 1] == pytest.approx(24 / 25)


def test_lists_never_hold_the_source() -> None:
    corpus = _corpus(["cocoa crop", "cocoa crop", "cocoa price"])
    run = scorer_run(TfidfScorer(corpus.texts), corpus, ["a0"], k=5)
    assert [doc for doc, _ in run["a0"]] == ["a1", "a2"]


def test_before_source_rule_keeps_only_earlier_candidates() -> None:
    corpus = _corpus(["x y", "x y", "x y", "x y"], [0.0, 1 * DAY, 2 * DAY, 3 * DAY])
    run = scorer_run(
        PopularityScorer(corpus.popularity), corpus, ["a2"], k=5, rule=CandidateRule(True)
    )
    assert [doc for doc, _ in run["a2"]] == ["a1", "a0"]


def test_window_rule_keeps_candidates_within_the_days_either_side() -> None:
    corpus = _corpus(["x"] * 4, [0.0, 1 * DAY, 2 * DAY, 5 * DAY])
    rule = CandidateRule(window_days=1.5)
    run = scorer_run(PopularityScorer(corpus.popularity), corpus, ["a1"], k=5, rule=rule)
    assert sorted(doc for doc, _ in run["a1"]) == ["a0", "a2"]


def test_top_k_breaks_ties_by_candidate_order() -> None:
    assert top_k(np.array([[1.0, 2.0, 2.0, 0.5]]), 3).tolist() == [[1, 2, 0]]


def test_top_k_pads_rows_with_too_few_allowed_candidates() -> None:
    allowed = np.array([[True, False, False]])
    assert top_k(np.array([[1.0, 2.0, 3.0]]), 2, allowed).tolist() == [[0, -1]]
