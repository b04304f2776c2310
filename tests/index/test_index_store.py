"""Versioned index store: publish, verified load, crash safety, check and prune."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from index import (
    FORMAT_VERSION,
    FlatIndex,
    FormatVersionError,
    HNSWIndex,
    IndexLoadError,
    IndexStore,
    IndexVersion,
    Manifest,
)

IDS = np.array([1, 2, 3], dtype=np.int64)
VECS = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
QUERY = np.array([[1.0, 0.0]], dtype=np.float32)


def flat(n: int = 3) -> FlatIndex:
    index = FlatIndex(2)
    index.add(IDS[:n], VECS[:n])
    return index


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    return IndexStore(tmp_path / "index")


def edit_manifest(version: IndexVersion, **changes: object) -> None:
    file = version.path / "manifest.json"
    data = json.loads(file.read_text())
    data.update(changes)
    file.write_text(json.dumps(data))


def named(path: Path, rest: str) -> str:
    return re.escape(str(path)) + rest


def test_current_is_none_before_the_first_publish(store: IndexStore) -> None:
    assert store.current() is None
    assert store.versions() == []


def test_load_before_the_first_publish_says_to_reindex(store: IndexStore) -> None:
    with pytest.raises(IndexLoadError, match="no index has been published yet"):
        store.load()


def test_publish_then_load_returns_the_same_results(store: IndexStore) -> None:
    index = flat()
    store.publish(index, model="mini", catalogue_seq=7)
    loaded, version = store.load()
    assert version.name == "v000001"
    for got, want in zip(loaded.search(QUERY, 3), index.search(QUERY, 3), strict=True):
        np.testing.assert_array_equal(got, want)


def test_an_hnsw_index_round_trips_with_its_tombstones(store: IndexStore) -> None:
    index = HNSWIndex(2, M=8)
    index.add(IDS, VECS)
    index.remove(np.array([2]))
    store.publish(index, model="mini", catalogue_seq=1)
    loaded, version = store.load()
    assert isinstance(loaded, HNSWIndex)
    assert loaded.search(QUERY, 3)[0].tolist() == [[1, 3, -1]]
    assert version.manifest.params == {
        "M": 8,
        "ef_construction": 200,
        "ef_search": 128,
        "storage": "float32",
    }


def test_the_manifest_records_what_was_published(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=7, params={"batch": 32})
    m = version.manifest
    assert (m.format_version, m.kind, m.model) == (FORMAT_VERSION, "flat", "mini")
    assert (m.dim, m.count) == (2, 3)
    assert m.catalogue_seq == 7
    assert m.params == {"batch": 32}
    assert list(m.files) == ["vectors.faiss"]
    assert re.fullmatch(r"[0-9a-f]{64}", m.files["vectors.faiss"])
    assert m.created_at.tzinfo is not None


def test_current_points_to_the_newest_version(store: IndexStore) -> None:
    store.publish(flat(1), model="mini", catalogue_seq=1)
    store.publish(flat(2), model="mini", catalogue_seq=2)
    newest = store.publish(flat(3), model="mini", catalogue_seq=3)
    current = store.current()
    assert current is not None
    assert current.name == newest.name == "v000003"
    assert (store.root / "CURRENT").read_text() == "v000003\n"
    assert [v.name for v in store.versions()] == ["v000001", "v000002", "v000003"]
    assert len(store.load()[0]) == 3


def test_a_truncated_file_is_refused_naming_it(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=1)
    file = version.path / "vectors.faiss"
    file.write_bytes(file.read_bytes()[:40])
    with pytest.raises(IndexLoadError, match=named(file, ": checksum mismatch")):
        store.load()


def test_a_bit_flipped_file_is_refused_naming_it(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=1)
    file = version.path / "vectors.faiss"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x01
    file.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match=named(file, r": checksum mismatch \(file damaged")):
        store.load()


def test_a_missing_file_is_refused_naming_it(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=1)
    (version.path / "vectors.faiss").unlink()
    with pytest.raises(IndexLoadError, match=named(version.path / "vectors.faiss", ": missing")):
        store.load()


def test_a_manifest_whose_count_disagrees_is_refused(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=1)
    edit_manifest(version, count=1200)
    with pytest.raises(IndexLoadError, match="manifest says 1200 vectors, index holds 3"):
        store.load()


def test_a_manifest_from_a_newer_format_raises_format_version_error(store: IndexStore) -> None:
    version = store.publish(flat(), model="mini", catalogue_seq=1)
    edit_manifest(version, format_version=99)
    with pytest.raises(
        FormatVersionError,
        match=named(
            version.path / "manifest.json",
            r": written by a newer newsrec \(format 99, "
            rf"this version reads up to {FORMAT_VERSION}\)",
        ),
    ):
        store.load()


def test_a_model_mismatch_is_refused_with_a_reindex_hint(store: IndexStore) -> None:
    store.publish(flat(), model="model-x", catalogue_seq=1)
    with pytest.raises(
        IndexLoadError,
        match="built with model 'model-x', configured model is 'model-y'; run `newsrec reindex`",
    ):
        store.load(expect_model="model-y")


def test_a_dimension_mismatch_is_refused(store: IndexStore) -> None:
    store.publish(flat(), model="mini", catalogue_seq=1)
    with pytest.raises(IndexLoadError, match="built with dimension 2, configured dimension is 384"):
        store.load(expect_dim=384)


def test_a_leftover_tmp_dir_from_a_crash_is_ignored(store: IndexStore) -> None:
    store.publish(flat(2), model="mini", catalogue_seq=1)
    # A publish that died while writing: half a file, no manifest.
    crashed = store.root / ".tmp-crashed"
    crashed.mkdir()
    (crashed / "vectors.faiss").write_bytes(b"\x00" * 10)
    current = store.current()
    assert current is not None and current.name == "v000001"
    assert len(store.load()[0]) == 2
    assert [v.name for v in store.versions()] == ["v000001"]


def test_a_crash_before_current_is_updated_keeps_the_old_version_serving(
    store: IndexStore,
) -> None:
    store.publish(flat(2), model="mini", catalogue_seq=1)
    pointer = store.root / "CURRENT"
    old_pointer = pointer.read_bytes()
    store.publish(flat(3), model="mini", catalogue_seq=2)
    pointer.write_bytes(old_pointer)  # as if we died between the rename and the new CURRENT
    loaded, version = store.load()
    assert (version.name, len(loaded)) == ("v000001", 2)
    assert store.publish(flat(1), model="mini", catalogue_seq=3).name == "v000003"


def test_load_of_an_explicit_older_version(store: IndexStore) -> None:
    first = store.publish(flat(1), model="mini", catalogue_seq=1)
    store.publish(flat(3), model="mini", catalogue_seq=2)
    loaded, version = store.load(first)
    assert (version.name, len(loaded)) == ("v000001", 1)


def test_params_that_contradict_index_params_are_refused(store: IndexStore) -> None:
    with pytest.raises(ValueError, match="params key 'M'"):
        store.publish(HNSWIndex(2, M=8), model="mini", catalogue_seq=0, params={"M": 16})
    assert store.versions() == []


def test_params_that_are_not_json_are_refused_before_writing(store: IndexStore) -> None:
    with pytest.raises(ValueError, match="JSON-serialisable"):
        store.publish(flat(), model="mini", catalogue_seq=0, params={"when": object()})
    assert not store.root.exists() or list(store.root.iterdir()) == []


def test_prune_keeps_the_newest_versions(store: IndexStore) -> None:
    for n in range(5):
        store.publish(flat(1 + n % 3), model="mini", catalogue_seq=n)
    assert store.prune(keep=2) == ["v000001", "v000002", "v000003"]
    assert [v.name for v in store.versions()] == ["v000004", "v000005"]


def test_prune_never_removes_current(store: IndexStore) -> None:
    for n in range(4):
        store.publish(flat(), model="mini", catalogue_seq=n)
    (store.root / "CURRENT").write_text("v000001\n")  # e.g. rolled back
    removed = store.prune(keep=1)
    assert removed == ["v000002", "v000003"]
    assert [v.name for v in store.versions()] == ["v000001", "v000004"]
    assert store.load()[1].name == "v000001"


def test_prune_removes_leftover_tmp_dirs(store: IndexStore) -> None:
    store.publish(flat(), model="mini", catalogue_seq=1)
    (store.root / ".tmp-crashed").mkdir()
    assert store.prune() == [".tmp-crashed"]
    assert not (store.root / ".tmp-crashed").exists()


def test_check_of_a_healthy_store_is_empty(store: IndexStore) -> None:
    store.publish(flat(), model="mini", catalogue_seq=1)
    store.publish(flat(), model="mini", catalogue_seq=2)
    assert store.check() == []


def test_check_reports_a_damaged_old_version_and_leftovers(store: IndexStore) -> None:
    old = store.publish(flat(), model="mini", catalogue_seq=1)
    store.publish(flat(), model="mini", catalogue_seq=2)
    (old.path / "vectors.faiss").write_bytes(b"junk")
    (store.root / ".tmp-crashed").mkdir()
    problems = store.check()
    assert len(problems) == 2
    assert problems[0].startswith(str(old.path / "vectors.faiss"))
    assert "checksum mismatch" in problems[0]
    assert "interrupted publish" in problems[1]


def test_check_reports_a_current_pointing_nowhere(store: IndexStore) -> None:
    store.publish(flat(), model="mini", catalogue_seq=1)
    (store.root / "CURRENT").write_text("v000009\n")
    assert store.check() == [
        f"{store.root / 'CURRENT'}: points to v000009, but {store.root / 'v000009'} does not exist"
    ]


class TestManifest:
    def manifest(self) -> Manifest:
        return Manifest.from_json(
            json.dumps(
                {
                    "format_version": 1,
                    "kind": "flat",
                    "model": "mini",
                    "dim": 2,
                    "count": 3,
                    "created_at": "2024-05-01T12:00:00+00:00",
                    "catalogue_seq": 9,
                    "files": {"vectors.faiss": "0" * 64},
                    "params": {"normalize": True},
                }
            ),
            Path("m.json"),
        )

    def test_round_trips_through_json(self) -> None:
        m = self.manifest()
        assert Manifest.from_json(m.to_json(), Path("m.json")) == m

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"extra": 1}, "unknown key"),
            ({"count": "3"}, "count must be an integer"),
            ({"count": True}, "count must be an integer"),
            ({"created_at": "yesterday"}, "created_at must be an ISO 8601 timestamp"),
            ({"files": {"../escape": "0" * 64}}, "invalid file name"),
            ({"files": {"vectors.faiss": "abc"}}, "not a sha256 hex digest"),
        ],
    )
    def test_bad_values_are_refused_naming_the_file(
        self, change: dict[str, object], message: str
    ) -> None:
        data = json.loads(self.manifest().to_json())
        data.update(change)
        with pytest.raises(IndexLoadError, match=f"m.json: .*{re.escape(message)}"):
            Manifest.from_json(json.dumps(data), Path("m.json"))

    def test_a_missing_key_is_refused_naming_it(self) -> None:
        data = json.loads(self.manifest().to_json())
        del data["model"]
        with pytest.raises(IndexLoadError, match=r"m\.json: missing key\(s\) model"):
            Manifest.from_json(json.dumps(data), Path("m.json"))

    def test_invalid_json_is_refused_naming_the_file(self) -> None:
        with pytest.raises(IndexLoadError, match=r"m\.json: not valid JSON"):
            Manifest.from_json("{", Path("m.json"))


def test_extras_are_published_with_the_index_and_read_back(store: IndexStore) -> None:
    table = np.arange(6, dtype=np.int32).reshape(3, 2)
    version = store.publish(flat(), model="mini", catalogue_seq=1, extras={"table": table})
    _, loaded = store.load()
    got = store.extras(loaded)
    assert list(got) == ["table"]
    np.testing.assert_array_equal(got["table"], table)
    assert "extra-table.npy" in version.manifest.files


def test_a_damaged_extra_is_refused_naming_it(store: IndexStore) -> None:
    version = store.publish(
        flat(), model="mini", catalogue_seq=1, extras={"table": np.zeros(64, np.float32)}
    )
    file = version.path / "extra-table.npy"
    file.write_bytes(file.read_bytes()[:-8] + b"\x01" * 8)
    with pytest.raises(IndexLoadError, match=named(file, ": checksum mismatch")):
        store.load()


def test_an_extra_name_that_is_not_an_identifier_is_refused(store: IndexStore) -> None:
    with pytest.raises(ValueError, match="lower-case identifier"):
        store.publish(flat(), model="mini", catalogue_seq=1, extras={"../x": np.zeros(1)})
