"""The committed reference of the sq8 HNSW layout (tests/data/index-hnsw-sq8, written once by
tests/data/make_reference.py) keeps loading with the answers worked out by hand.

Doc ids 1-4 are the unit axes, 5 = (0.6, 0.8, 0, 0) (removed before the reference was written)
and 6 = (0, 0, 0.8, 0.6); so for the query (0, 0, 0.6, 0.8) doc 6 scores 0.96, doc 4 0.8 and
doc 3 0.6, and for (0.8, 0.6, 0, 0) doc 1 scores 0.8 and doc 2 0.6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index import HNSWIndex, IndexStore

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "index-hnsw-sq8"
QUERIES = np.array([[0.8, 0.6, 0.0, 0.0], [0.0, 0.0, 0.6, 0.8]], dtype=np.float32)


def test_the_sq8_reference_loads_with_exact_scores_and_its_tombstone() -> None:
    index, version = IndexStore(REFERENCE).load(expect_model="reference-model")
    assert isinstance(index, HNSWIndex)
    assert (index.storage, version.manifest.count, index.contains(5)) == ("sq8", 5, False)
    ids, scores = index.search(QUERIES, 3)
    assert ids.tolist() == [[1, 2, ids[0, 2]], [6, 4, 3]]
    assert ids[0, 2] in (3, 4, 6)  # the three docs that score 0 tie for third place
    np.testing.assert_allclose(scores, [[0.8, 0.6, 0.0], [0.96, 0.8, 0.6]], atol=1e-6)


def test_the_sq8_reference_gives_back_its_exact_vectors() -> None:
    index, _ = IndexStore(REFERENCE).load()
    want = np.array([[0, 0, 0.8, 0.6], [1, 0, 0, 0]], dtype=np.float32)
    assert np.array_equal(index.reconstruct(np.array([6, 1])), want)
