"""Behaviour every VectorIndex must have (the contract), plus kind-specific behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from index import INDEX_KINDS, FlatIndex, HNSWIndex, IndexLoadError, VectorIndex, make_index

# Four unit vectors whose inner products with the query [1, 0, 0, 0] are 1, 0.8, 0 and -0.6,
# so the expected ranking and scores can be checked by hand.
IDS = np.array([10, 20, 30, 40], dtype=np.int64)
VECS = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.8, 0.6, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [-0.6, 0.0, 0.8, 0.0],
    ],
    dtype=np.float32,
)
Q_X = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)


def unit(rows: int, dim: int, seed: int = 0) -> npt.NDArray[np.float32]:
    vecs = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs


class VectorIndexContract:
    """Inherited by one test class per index kind; `make` builds an empty index."""

    def make(self, dim: int = 4) -> VectorIndex:
        raise NotImplementedError

    def filled(self) -> VectorIndex:
        index = self.make()
        index.add(IDS, VECS)
        return index

    def test_search_finds_the_exact_vector_first_with_score_one(self) -> None:
        index = self.filled()
        ids, scores = index.search(VECS, 1)
        assert ids[:, 0].tolist() == IDS.tolist()
        assert scores[:, 0] == pytest.approx([1.0] * 4, abs=1e-5)

    def test_search_ranks_by_inner_product(self) -> None:
        ids, scores = self.filled().search(Q_X, 4)
        assert ids[0].tolist() == [10, 20, 30, 40]
        assert scores[0] == pytest.approx([1.0, 0.8, 0.0, -0.6], abs=1e-5)

    def test_results_are_padded_with_minus_one_and_minus_inf_when_k_exceeds_len(self) -> None:
        ids, scores = self.filled().search(Q_X, 6)
        assert ids.shape == (1, 6)
        assert ids.dtype == np.int64
        assert scores.dtype == np.float32
        assert ids[0, 4:].tolist() == [-1, -1]
        assert np.isneginf(scores[0, 4:]).all()

    def test_search_on_an_empty_index_returns_only_padding(self) -> None:
        ids, scores = self.make().search(Q_X, 3)
        assert ids.tolist() == [[-1, -1, -1]]
        assert np.isneginf(scores).all()

    def test_search_with_k_zero_returns_empty_rows(self) -> None:
        ids, scores = self.filled().search(Q_X, 0)
        assert ids.shape == (1, 0)
        assert scores.shape == (1, 0)

    def test_removed_ids_never_appear_in_results(self) -> None:
        index = self.filled()
        index.remove(np.array([10, 30]))
        ids, _ = index.search(VECS, 4)
        assert set(ids.ravel().tolist()) == {20, 40, -1}
        assert len(index) == 2

    def test_remove_ignores_unknown_ids(self) -> None:
        index = self.filled()
        index.remove(np.array([999]))
        assert len(index) == 4

    def test_replacing_an_id_updates_its_vector(self) -> None:
        index = self.filled()
        new = np.array([[0.0, 0.0, 0.0, 1.0]], dtype=np.float32)
        index.add(np.array([10]), new)
        assert len(index) == 4
        ids, scores = index.search(new, 1)
        assert ids[0, 0] == 10
        assert scores[0, 0] == pytest.approx(1.0, abs=1e-5)
        top_for_old_vector, _ = index.search(Q_X, 1)
        assert top_for_old_vector[0, 0] == 20

    def test_batch_search_equals_single_searches(self) -> None:
        index = self.make(dim=8)
        index.add(np.arange(100, 140), unit(40, 8))
        queries = unit(5, 8, seed=1)
        batch_ids, batch_scores = index.search(queries, 7)
        for row in range(5):
            ids, scores = index.search(queries[row : row + 1], 7)
            assert ids[0].tolist() == batch_ids[row].tolist()
            assert scores[0] == pytest.approx(batch_scores[row], abs=1e-6)

    def test_save_load_round_trip_gives_identical_results(self, tmp_path: Path) -> None:
        index = self.make(dim=8)
        index.add(np.arange(100, 140), unit(40, 8))
        index.remove(np.array([105, 110]))
        index.save(tmp_path)
        loaded = type(index).load(tmp_path)
        queries = unit(5, 8, seed=1)
        assert len(loaded) == len(index) == 38
        assert loaded.dim == 8
        assert loaded.params == index.params
        for got, want in zip(loaded.search(queries, 10), index.search(queries, 10), strict=True):
            np.testing.assert_array_equal(got, want)

    def test_adding_vectors_of_another_dimension_raises_value_error(self) -> None:
        with pytest.raises(ValueError, match="vectors have dimension 3, index has 4"):
            self.make().add(np.array([1]), np.ones((1, 3), dtype=np.float32) / np.sqrt(3))

    def test_searching_with_queries_of_another_dimension_raises_value_error(self) -> None:
        with pytest.raises(ValueError, match="queries have dimension 5, index has 4"):
            self.filled().search(np.zeros((1, 5), dtype=np.float32), 1)

    def test_reconstruct_returns_the_added_vector(self) -> None:
        got = self.filled().reconstruct(np.array([40, 20]))
        np.testing.assert_allclose(got, VECS[[3, 1]])
        assert got.dtype == np.float32

    def test_reconstruct_reads_old_and_new_vectors_after_many_adds(self) -> None:
        # Thousands of adds move an index's storage; reads must follow it.
        index = self.filled()
        index.reconstruct(np.array([40]))
        rng = np.random.default_rng(3)
        more = rng.normal(size=(3000, 4)).astype(np.float32)
        more /= np.linalg.norm(more, axis=1, keepdims=True)
        index.add(np.arange(1000, 4000), more)
        got = index.reconstruct(np.array([40, 1000, 3999]))
        np.testing.assert_allclose(got, np.stack([VECS[3], more[0], more[-1]]))

    def test_reconstruct_of_a_missing_id_raises_key_error_naming_it(self) -> None:
        index = self.filled()
        index.remove(np.array([20]))
        with pytest.raises(KeyError, match="doc_id 20"):
            index.reconstruct(np.array([10, 20]))

    def test_contains_reports_live_ids_only(self) -> None:
        index = self.filled()
        index.remove(np.array([30]))
        assert index.contains(10)
        assert not index.contains(30)
        assert not index.contains(99)

    def test_unnormalised_vectors_are_refused(self) -> None:
        with pytest.raises(ValueError, match=r"doc_id 7 is not L2-normalised \(norm 2.0000\)"):
            self.make().add(np.array([7]), np.array([[2.0, 0, 0, 0]], dtype=np.float32))

    def test_an_id_given_twice_in_one_add_is_refused(self) -> None:
        with pytest.raises(ValueError, match="doc_ids contain 10 more than once"):
            self.make().add(np.array([10, 10]), VECS[:2])

    def test_negative_ids_are_refused(self) -> None:
        with pytest.raises(ValueError, match="non-negative"):
            self.make().add(np.array([-1]), VECS[:1])

    def test_id_and_vector_counts_must_match(self) -> None:
        with pytest.raises(ValueError, match="got 1 doc_ids but 2 vectors"):
            self.make().add(np.array([1]), VECS[:2])

    def test_float64_vectors_are_accepted(self) -> None:
        index = self.make()
        index.add(IDS, VECS.astype(np.float64))
        assert index.search(Q_X.astype(np.float64), 1)[0][0, 0] == 10

    def test_kind_is_registered(self) -> None:
        index = self.make()
        assert INDEX_KINDS[index.kind] is type(index)
        assert isinstance(index, VectorIndex)


class TestFlatIndex(VectorIndexContract):
    def make(self, dim: int = 4) -> VectorIndex:
        return FlatIndex(dim)

    def test_load_refuses_a_file_holding_another_index_type(self, tmp_path: Path) -> None:
        HNSWIndex(4).save(tmp_path)
        with pytest.raises(IndexLoadError, match=r"vectors\.faiss: holds a IndexHNSWFlat"):
            FlatIndex.load(tmp_path)

    def test_load_of_a_missing_file_names_it(self, tmp_path: Path) -> None:
        with pytest.raises(IndexLoadError, match=r"vectors\.faiss: missing"):
            FlatIndex.load(tmp_path)


class TestHNSWIndex(VectorIndexContract):
    def make(self, dim: int = 4) -> VectorIndex:
        return HNSWIndex(dim, M=8, ef_construction=40, ef_search=32)

    def test_tombstone_ratio_counts_removed_and_replaced_vectors(self) -> None:
        index = HNSWIndex(4)
        index.add(IDS, VECS)
        index.remove(np.array([10]))
        index.add(np.array([20]), VECS[2:3])
        # 5 graph nodes, of which the removed 10 and the old 20 are dead.
        assert index.tombstone_ratio == pytest.approx(2 / 5)

    def test_search_returns_k_live_results_despite_many_tombstones(self) -> None:
        vecs = unit(300, 8)
        index = HNSWIndex(8)
        index.add(np.arange(300), vecs)
        # About three in four nodes become tombstones, so the first over-fetch comes back short
        # and the search has to widen.
        index.remove(np.arange(0, 300, 4)[:-5])
        index.remove(np.arange(1, 300, 4))
        index.remove(np.arange(2, 300, 4))
        exact = FlatIndex(8)
        live = np.array([i for i in range(300) if index.contains(i)])
        exact.add(live, vecs[live])
        queries = unit(4, 8, seed=2)
        ids, _ = index.search(queries, 40)
        want, _ = exact.search(queries, 40)
        assert (ids >= 0).all()
        for row in range(4):
            assert set(ids[row].tolist()) <= set(live.tolist())
            assert len(set(ids[row].tolist()) & set(want[row].tolist())) >= 36

    def test_compact_drops_tombstones_and_keeps_live_vectors(self) -> None:
        index = HNSWIndex(4, M=8)
        index.add(IDS, VECS)
        index.remove(np.array([30]))
        fresh = index.compact()
        assert fresh.tombstone_ratio == 0.0
        assert len(fresh) == 3
        assert fresh.params == index.params
        np.testing.assert_allclose(fresh.reconstruct(np.array([40])), VECS[3:4])

    def test_save_load_keeps_tombstones(self, tmp_path: Path) -> None:
        index = HNSWIndex(4)
        index.add(IDS, VECS)
        index.remove(np.array([20]))
        index.save(tmp_path)
        loaded = HNSWIndex.load(tmp_path)
        assert not loaded.contains(20)
        assert loaded.tombstone_ratio == pytest.approx(0.25)
        assert sorted(f.name for f in tmp_path.iterdir()) == [
            "ids.npy",
            "tombstones.npy",
            "vectors.faiss",
        ]

    def test_load_refuses_ids_file_of_the_wrong_length(self, tmp_path: Path) -> None:
        index = HNSWIndex(4)
        index.add(IDS, VECS)
        index.save(tmp_path)
        np.save(tmp_path / "ids.npy", IDS[:3])
        with pytest.raises(IndexLoadError, match=r"ids\.npy: holds 3 ids, vectors\.faiss holds 4"):
            HNSWIndex.load(tmp_path)

    def test_ef_search_can_be_tuned_after_construction(self) -> None:
        index = HNSWIndex(4, ef_search=16)
        index.ef_search = 64
        assert index.params["ef_search"] == 64

    def test_bad_parameter_values_are_refused(self) -> None:
        with pytest.raises(ValueError, match="M must be a positive integer"):
            HNSWIndex(4, M=0)


class TestHNSWSQ8Index(VectorIndexContract):
    """The graph walks 8-bit codes; exact vectors rescore and reconstruct (index/hnsw.py)."""

    def make(self, dim: int = 4) -> VectorIndex:
        return HNSWIndex(dim, M=8, ef_construction=40, ef_search=32, storage="sq8")

    def test_scores_are_exact_inner_products_not_the_codes(self) -> None:
        vecs = unit(1_500, 16)
        index = HNSWIndex(16, storage="sq8")
        index.add(np.arange(1_500), vecs)
        query = unit(1, 16, seed=3)
        ids, scores = index.search(query, 10)
        np.testing.assert_allclose(scores[0], vecs[ids[0]] @ query[0], rtol=0, atol=1e-6)
        assert (np.diff(scores[0]) <= 0).all()

    def test_recall_at_10_against_exact_search_is_at_least_098(self) -> None:
        vecs = unit(2_000, 32)
        index = HNSWIndex(32, storage="sq8")
        index.add(np.arange(2_000), vecs)
        queries = vecs[:100]
        found, _ = index.search(queries, 10)
        truth = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        assert recall >= 0.98

    def test_reconstruct_gives_back_the_exact_vectors_bit_for_bit(self) -> None:
        vecs = unit(50, 8)
        index = HNSWIndex(8, storage="sq8")
        index.add(np.arange(50), vecs)
        assert np.array_equal(index.reconstruct(np.array([7, 3])), vecs[[7, 3]])

    def test_save_writes_the_exact_vectors_beside_the_graph(self, tmp_path: Path) -> None:
        index = self.filled()
        index.save(tmp_path)
        assert sorted(f.name for f in tmp_path.iterdir()) == [
            "exact.npy",
            "ids.npy",
            "tombstones.npy",
            "vectors.faiss",
        ]
        np.testing.assert_array_equal(np.load(tmp_path / "exact.npy"), VECS)
        loaded = HNSWIndex.load(tmp_path)
        assert loaded.storage == "sq8"
        assert loaded.params == index.params

    def test_vectors_added_after_load_are_searched_and_saved(self, tmp_path: Path) -> None:
        index = self.filled()
        (tmp_path / "a").mkdir()
        index.save(tmp_path / "a")
        loaded = HNSWIndex.load(tmp_path / "a")
        loaded.add(np.array([50, 20]), np.array([[0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.float32))
        ids, scores = loaded.search(np.array([[0, 0, 0.6, 0.8]], dtype=np.float32), 2)
        assert ids[0].tolist() == [50, 20]
        assert scores[0] == pytest.approx([0.8, 0.6], abs=1e-6)
        (tmp_path / "b").mkdir()
        loaded.save(tmp_path / "b")
        again = HNSWIndex.load(tmp_path / "b")
        np.testing.assert_array_equal(
            again.reconstruct(np.array([20, 50, 40])), [[0, 0, 1, 0], [0, 0, 0, 1], VECS[3]]
        )

    def test_an_empty_index_saves_loads_and_then_takes_vectors(self, tmp_path: Path) -> None:
        self.make().save(tmp_path)
        loaded = HNSWIndex.load(tmp_path)
        assert len(loaded) == 0
        loaded.add(IDS, VECS)
        ids, scores = loaded.search(Q_X, 2)
        assert ids[0].tolist() == [10, 20]
        assert scores[0] == pytest.approx([1.0, 0.8], abs=1e-6)

    def test_load_refuses_exact_vectors_of_the_wrong_count(self, tmp_path: Path) -> None:
        self.filled().save(tmp_path)
        np.save(tmp_path / "exact.npy", VECS[:3])
        with pytest.raises(IndexLoadError, match=r"exact\.npy: holds float32 \(3, 4\)"):
            HNSWIndex.load(tmp_path)

    def test_load_without_the_exact_vectors_names_the_missing_file(self, tmp_path: Path) -> None:
        self.filled().save(tmp_path)
        (tmp_path / "exact.npy").unlink()
        with pytest.raises(IndexLoadError, match=r"exact\.npy: missing"):
            HNSWIndex.load(tmp_path)

    def test_an_index_saved_with_float32_storage_still_loads_as_float32(
        self, tmp_path: Path
    ) -> None:
        index = HNSWIndex(4, storage="float32")
        index.add(IDS, VECS)
        index.save(tmp_path)
        loaded = HNSWIndex.load(tmp_path)
        assert loaded.storage == "float32"
        assert not (tmp_path / "exact.npy").exists()

    def test_an_unknown_storage_is_refused_naming_the_known_ones(self) -> None:
        with pytest.raises(ValueError, match="storage must be one of float32, sq8, got 'pq'"):
            HNSWIndex(4, storage="pq")


def test_make_index_builds_the_requested_kind_with_params() -> None:
    index = make_index("hnsw", 16, M=12)
    assert isinstance(index, HNSWIndex)
    assert index.dim == 16
    assert index.params["M"] == 12


def test_make_index_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown index kind 'ivf'; known kinds: flat, hnsw"):
        make_index("ivf", 4)


def test_make_index_refuses_an_unknown_parameter() -> None:
    with pytest.raises(ValueError, match=r"index kind 'flat'.*unexpected keyword argument 'M'"):
        make_index("flat", 4, M=8)


def test_make_index_refuses_a_non_positive_dimension() -> None:
    with pytest.raises(ValueError, match="dimension must be a positive integer, got 0"):
        make_index("flat", 0)
