"""Reach (mutual neighbours) and the section rule in Related's gate."""

from __future__ import annotations

import numpy as np

from index.flat import FlatIndex
from recommender.ranking.gate import RelatedGate
from recommender.ranking.reach import MIN_REACH, Reach, reach_depth


def _index(n: int, seed: int = 0) -> tuple[FlatIndex, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = FlatIndex(16)
    index.add(np.arange(n, dtype=np.int64), vectors)
    return index, vectors


def test_reach_is_the_cosine_of_the_depth_th_closest_other_article() -> None:
    index, vectors = _index(60)
    reach = Reach(depth=12)
    docs = np.array([3, 17, 41], dtype=np.int64)
    cosines = vectors[docs] @ vectors.T
    cosines[np.arange(3), docs] = -np.inf  # an article is not its own neighbour
    expected = -np.sort(-cosines, axis=1)[:, 11]
    published = np.ones(60, dtype=bool)
    np.testing.assert_allclose(reach.of(docs, index, published), expected, rtol=1e-5)
    # Kept: asked again, the same values, also when asked among others.
    again = reach.of(np.array([41, 3]), index, published)
    np.testing.assert_allclose(again, expected[[2, 0]], rtol=1e-5)


def test_a_catalogue_smaller_than_the_depth_puts_everything_within_reach() -> None:
    index, _ = _index(8)
    docs = np.arange(8, dtype=np.int64)
    assert np.all(Reach(depth=10).of(docs, index, np.ones(8, dtype=bool)) == -np.inf)


def test_reach_depth_is_a_share_of_the_catalogue_within_bounds() -> None:
    assert reach_depth(80, 0.1, 200) == MIN_REACH  # 8 is too few to choose from
    assert reach_depth(1_500, 0.1, 200) == 150
    assert reach_depth(100_000, 0.1, 200) is None  # too deep to search: the rule is off


def test_a_hub_close_to_every_source_is_related_only_to_those_within_its_reach() -> None:
    gate = RelatedGate(floor=0.2, depth=40, min_readers=5)
    similarity = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    readers = np.array([0, 0, 6])
    reach = np.array([0.95, 0.5, 0.99], dtype=np.float32)  # the first is a hub: its 10th is 0.95
    passed = gate.passes(similarity, readers, k=5, reach=reach)
    # The hub fails; the second is within reach; the third fails by content, passes by readers.
    assert passed.tolist() == [False, True, True]


def test_a_candidate_filed_apart_passes_only_by_readers() -> None:
    gate = RelatedGate(floor=0.2, depth=40, min_readers=5)
    similarity = np.array([0.9, 0.9, 0.9], dtype=np.float32)
    apart = np.array([True, False, True])
    passed = gate.passes(similarity, np.array([0, 0, 5]), k=5, apart=apart)
    assert passed.tolist() == [False, True, True]
