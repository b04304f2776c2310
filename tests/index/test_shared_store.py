"""Shared index store: publish to a shared folder, verified atomic fetch into a local store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index import FlatIndex, IndexLoadError, IndexStore, IndexVersion, StorageError
from index.crashpoints import CRASH_ENV
from index.shared_store import SharedStore, fetch, publish_to

ROOT = Path(__file__).resolve().parents[2]
IDS = np.array([1, 2, 3], dtype=np.int64)
VECS = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
QUERY = np.array([[1.0, 0.0]], dtype=np.float32)


def publish_local(store: IndexStore, n: int = 3, seq: int = 1) -> IndexVersion:
    index = FlatIndex(2)
    index.add(IDS[:n], VECS[:n])
    return store.publish(index, model="mini", catalogue_seq=seq)


@pytest.fixture
def builder(tmp_path: Path) -> IndexStore:
    return IndexStore(tmp_path / "builder" / "index")


@pytest.fixture
def shared(tmp_path: Path) -> SharedStore:
    return SharedStore(str(tmp_path / "shared"))


@pytest.fixture
def replica(tmp_path: Path) -> IndexStore:
    return IndexStore(tmp_path / "replica" / "index")


def current_name(store: IndexStore) -> str | None:
    current = store.current()
    return current.name if current is not None else None


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".fetch.lock"
    }


def test_a_published_version_is_fetched_verified_and_made_current(
    builder: IndexStore, shared: SharedStore, replica: IndexStore
) -> None:
    version = publish_local(builder)
    assert publish_to(shared, builder, version) == "v000001"
    fetched = fetch(shared, replica, expect_model="mini", expect_dim=2)
    assert fetched is not None and fetched.name == "v000001"
    assert fetched.manifest == version.manifest
    loaded, current = replica.load(expect_model="mini")
    assert current.name == "v000001"
    assert loaded.search(QUERY, 3)[0].tolist() == [[1, 2, 3]]


def test_nothing_is_fetched_before_anything_is_published(
    shared: SharedStore, replica: IndexStore
) -> None:
    assert fetch(shared, replica) is None
    assert replica.current() is None


def test_fetching_again_does_nothing(
    builder: IndexStore, shared: SharedStore, replica: IndexStore
) -> None:
    publish_to(shared, builder, publish_local(builder))
    assert fetch(shared, replica) is not None
    before = snapshot(replica.root)
    assert fetch(shared, replica) is None
    assert fetch(SharedStore(shared.uri), replica) is None  # a new process: same answer
    assert snapshot(replica.root) == before


def test_a_new_version_replaces_the_fetched_one_and_old_ones_are_pruned(
    builder: IndexStore, shared: SharedStore, replica: IndexStore
) -> None:
    for n in (1, 2, 3, 1, 2):
        publish_to(shared, builder, publish_local(builder, n=n, seq=n))
        fetch(shared, replica)
    assert current_name(replica) == "v000005"
    assert [v.name for v in replica.versions()] == ["v000003", "v000004", "v000005"]
    assert shared.version_names() == ["v000003", "v000004", "v000005"]


def test_a_fetch_leaves_a_local_publish_in_progress_alone(
    builder: IndexStore, shared: SharedStore, replica: IndexStore
) -> None:
    publish_local(replica)
    in_progress = replica.root / ".tmp-publishing"  # as IndexStore.publish names its work
    in_progress.mkdir()
    for n in (1, 2, 3):
        publish_to(shared, builder, publish_local(builder, n=n))
        fetch(shared, replica)
    assert [v.name for v in replica.versions()] == ["v000002", "v000003", "v000004"]
    assert in_progress.is_dir()


def test_a_damaged_upload_is_refused_with_the_file_named_and_the_local_store_kept(
    builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder, n=2))
    fetch(shared, replica)
    before = snapshot(replica.root)
    version = publish_local(builder, n=3)
    publish_to(shared, builder, version)
    damaged = tmp_path / "shared" / "v000002" / "vectors.faiss"
    assert damaged.is_file(), sorted(p.name for p in damaged.parent.iterdir())
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"v000002/vectors\.faiss: checksum mismatch"):
        fetch(shared, replica)
    assert snapshot(replica.root) == before
    assert current_name(replica) == "v000001"
    assert not [p for p in replica.root.iterdir() if p.name.startswith(".fetch-")]


def test_a_missing_file_is_refused_with_the_file_named(
    builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder))
    (tmp_path / "shared" / "v000001" / "vectors.faiss").unlink()
    with pytest.raises(StorageError, match=r"v000001/vectors\.faiss: missing"):
        fetch(shared, replica)
    assert replica.current() is None


def test_a_version_of_another_model_is_not_installed(
    builder: IndexStore, shared: SharedStore, replica: IndexStore
) -> None:
    publish_to(shared, builder, publish_local(builder))
    with pytest.raises(IndexLoadError, match=r"v000001/manifest\.json: built with model 'mini'"):
        fetch(shared, replica, expect_model="other")
    assert replica.current() is None


def test_a_current_pointer_naming_no_version_is_refused(
    shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "CURRENT").write_text("../etc\n")
    with pytest.raises(StorageError, match=r"shared/CURRENT: does not name a version"):
        fetch(shared, replica)


def test_the_shared_pointer_is_replaced_whole_and_no_temporary_file_stays(
    builder: IndexStore, shared: SharedStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder))
    publish_to(shared, builder, publish_local(builder, n=2))
    assert (tmp_path / "shared" / "CURRENT").read_text() == "v000002\n"
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == [
        "CURRENT",
        "v000001",
        "v000002",
    ]


def test_a_builder_with_a_fresh_home_never_overwrites_a_shared_version(
    builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder))
    publish_to(shared, builder, publish_local(builder, n=2))
    fetch(shared, replica)
    fresh = IndexStore(tmp_path / "fresh" / "index")
    assert publish_to(shared, fresh, publish_local(fresh, n=1)) == "v000003"
    fetched = fetch(shared, replica)
    assert fetched is not None and fetched.name == "v000003"
    assert fetched.manifest.count == 1


def test_a_retried_publish_uploads_nothing_again(
    builder: IndexStore, shared: SharedStore, tmp_path: Path
) -> None:
    version = publish_local(builder)
    publish_to(shared, builder, version)
    file = tmp_path / "shared" / "v000001" / "manifest.json"
    stamp = file.stat().st_mtime_ns
    assert publish_to(shared, builder, version) == "v000001"
    assert file.stat().st_mtime_ns == stamp


def test_pointing_the_shared_store_back_makes_replicas_serve_the_older_version(
    builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder, n=1))
    fetch(shared, replica)
    publish_to(shared, builder, publish_local(builder, n=2))
    fetch(shared, replica)
    (tmp_path / "shared" / "CURRENT").write_text("v000001\n")  # an operator's rollback
    back = fetch(shared, replica)
    assert back is not None and back.name == "v000001"
    assert current_name(replica) == "v000001"


def test_any_fsspec_filesystem_serves_as_the_store(
    builder: IndexStore, replica: IndexStore, tmp_path: Path
) -> None:
    # fsspec's in-memory filesystem stands for an object store: no folders, no atomic rename.
    memory = SharedStore(f"memory://newsrec-{tmp_path.name}")
    publish_to(memory, builder, publish_local(builder, n=1))
    publish_to(memory, builder, publish_local(builder, n=2))
    fetched = fetch(memory, replica)
    assert fetched is not None and fetched.name == "v000002"
    assert memory.version_names() == ["v000001", "v000002"]
    loaded, _ = replica.load()
    assert len(loaded) == 2


def test_an_unknown_protocol_is_refused_with_the_uri_named() -> None:
    with pytest.raises(StorageError, match=r"nosuch://bucket/x: cannot open"):
        SharedStore("nosuch://bucket/x")


def test_a_password_in_the_uri_is_never_shown() -> None:
    with pytest.raises(StorageError) as raised:
        SharedStore("nosuch://user:secret@host/x")
    assert "secret" not in str(raised.value)
    assert "nosuch://user:***@host/x" in str(raised.value)


def run_until_killed(code: str, crash_at: str) -> None:
    env = {**os.environ, CRASH_ENV: crash_at}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == -9, f"expected a SIGKILL at {crash_at}, got {done.returncode}"


PUBLISH = """
    import sys
    import numpy as np
    from index import FlatIndex, IndexStore
    from index.shared_store import SharedStore, publish_to

    store = IndexStore(sys.argv[1] if len(sys.argv) > 1 else {builder!r})
    index = FlatIndex(2)
    index.add(np.array([7], dtype=np.int64), np.array([[1.0, 0.0]], dtype=np.float32))
    publish_to(SharedStore({shared!r}), store, store.publish(index, model="mini", catalogue_seq=9))
"""


@pytest.mark.parametrize("point", ["shared.after_files", "shared.after_manifest"])
def test_a_publish_killed_before_the_pointer_moves_leaves_replicas_on_the_old_version(
    point: str, builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder))
    fetch(shared, replica)
    code = PUBLISH.format(builder=str(builder.root), shared=str(tmp_path / "shared"))
    run_until_killed(code, point)
    assert (tmp_path / "shared" / "CURRENT").read_text() == "v000001\n"
    assert fetch(shared, replica) is None
    assert current_name(replica) == "v000001"
    # The builder's next publish completes the store.
    publish_to(shared, builder, publish_local(builder, n=2))
    fetched = fetch(shared, replica)
    assert fetched is not None and fetched.manifest.count == 2


def test_a_fetch_killed_before_installing_leaves_the_local_store_as_it_was(
    builder: IndexStore, shared: SharedStore, replica: IndexStore, tmp_path: Path
) -> None:
    publish_to(shared, builder, publish_local(builder))
    fetch(shared, replica)
    publish_to(shared, builder, publish_local(builder, n=2))
    code = f"""
        from index import IndexStore
        from index.shared_store import SharedStore, fetch
        fetch(SharedStore({str(tmp_path / "shared")!r}), IndexStore({str(replica.root)!r}))
    """
    run_until_killed(code, "fetch.after_files")
    assert current_name(replica) == "v000001"
    assert replica.check() == []
    fetched = fetch(shared, replica)
    assert fetched is not None and fetched.name == "v000002"
    assert not [p for p in replica.root.iterdir() if p.name.startswith(".fetch-")]
