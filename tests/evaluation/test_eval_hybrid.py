"""The BM25 scorer, neighbourhood augmentation and the proposed hybrid More like this."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.corpus import Corpus
from evaluation.hybrid import HybridConfig, HybridScorer
from recommender.bm25 import Bm25Index
from recommender.neighbourhood import augment_vectors, hybrid_neighbours


def test_bm25_similarity_of_the_source_with_itself_is_one() -> None:
    index = Bm25Index(["cocoa harvest brazil", "cocoa prices", "oil output"])
    assert index.similarity(0, np.array([0]))[0] == pytest.approx(1.0)


def test_bm25_similarity_is_bm25_over_the_self_match() -> None:
    index = Bm25Index(["cocoa harvest", "cocoa"], k1=1.2, b=0.75)
    # Source 1 = {cocoa}: idf = ln(1 + 0.5/2.5); avgdl = 1.5.
    idf = math.log1p(0.5 / 2.5)

    def bm25(tf: float, length: float) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / 1.5))

    expected = bm25(1, 2) / bm25(1, 1)
    assert index.similarity(1, np.array([0]))[0] == pytest.approx(expected, rel=1e-6)


def test_bm25_rows_agree_with_single_similarities() -> None:
    index = Bm25Index(["cocoa harvest", "cocoa prices", "oil prices"])
    rows = index.similarity_rows(np.array([1]))
    assert np.allclose(rows[0], index.similarity(1, np.arange(3)))


def test_bm25_index_refuses_texts_without_terms() -> None:
    with pytest.raises(ValueError, match="no indexable term"):
        Bm25Index(["the", "a"])


def test_augmented_vector_adds_beta_times_the_neighbour_mean() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    out = augment_vectors(vectors, np.array([[1], [2], [1]]), beta=1.0)
    assert np.allclose(out[0], [math.sqrt(0.5), math.sqrt(0.5)])


def test_neighbours_are_the_closest_other_articles() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bm25 = Bm25Index(["cocoa crop", "cocoa crop", "oil well"])
    rows = hybrid_neighbours(vectors, bm25, neighbours=1, blend=0.5)
    assert rows[:, 0].tolist() == [1, 0, 1]


def test_hybrid_lists_never_hold_the_source_and_rank_shared_terms_first() -> None:
    titles = ["cocoa crop brazil", "cocoa crop ghana", "oil output", "oil prices", "gold"]
    vectors = np.eye(5, dtype=np.float32)
    corpus = Corpus(
        ids=[f"a{i}" for i in range(5)],
        doc_ids=np.arange(5),
        titles=titles,
        bodies=[""] * 5,
        published_ts=np.zeros(5),
        popularity=np.zeros(5),
        vectors=vectors,
    )
    scores = HybridScorer(corpus, HybridConfig(neighbours=1, candidates=4)).scores(np.array([0]))
    assert scores[0, 0] == -np.inf
    assert int(np.argmax(scores[0])) == 1
