"""Publishing with a shared index store: the builder pushes, replicas fetch, builders take turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import Catalogue, IndexStore, IndexVersion, StorageError
from index.shared_store import SharedStore
from recommender.operations.indexing import (
    fetch_before_serving,
    fetch_from_store,
    publish_index,
)
from tests.conftest import make_settings
from tests.recommender.operations.test_indexing import _upsert


def _published(tmp_path: Path) -> tuple[Path, IndexVersion]:
    shared = tmp_path / "shared"
    builder = make_settings(tmp_path / "builder", store_url=str(shared))
    with Catalogue(builder.catalogue_path) as catalogue:
        _upsert(catalogue, [1, 2, 3], builder)
        version = publish_index(catalogue, IndexStore(builder.index_root), builder)
    return shared, version


def test_a_published_version_reaches_a_replica_with_an_empty_home(tmp_path: Path) -> None:
    shared, version = _published(tmp_path)
    replica = make_settings(tmp_path / "replica", store_url=str(shared))
    assert SharedStore(str(shared)).current_name() == version.name
    fetched = fetch_from_store(replica)
    assert fetched is not None and fetched.manifest == version.manifest
    index, _ = IndexStore(replica.index_root).load(expect_model=replica.model)
    assert len(index) == 3
    assert fetch_from_store(replica) is None


def test_without_a_store_nothing_is_fetched(tmp_path: Path) -> None:
    assert fetch_from_store(make_settings(tmp_path)) is None
    assert not (tmp_path / "index").exists()


def test_a_second_builder_continues_from_the_shared_version(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    first = make_settings(tmp_path / "first", store_url=str(shared))
    second = make_settings(tmp_path / "second", store_url=str(shared))
    with Catalogue(first.catalogue_path) as catalogue:
        _upsert(catalogue, [1, 2, 3], first)
        published = publish_index(catalogue, IndexStore(first.index_root), first)
        _upsert(catalogue, [4], first)
        # Another machine, its home empty, the same catalogue (as with PostgreSQL).
        store = IndexStore(second.index_root)
        version = publish_index(catalogue, store, second)
    assert version.name == "v000002"
    assert store.versions()[0].manifest == published.manifest
    assert version.manifest.count == 4
    assert SharedStore(str(shared)).current_name() == "v000002"


def test_before_serving_a_replica_with_a_version_serves_it_when_the_store_is_damaged(
    tmp_path: Path,
) -> None:
    shared, version = _published(tmp_path)
    replica = make_settings(tmp_path / "replica", store_url=str(shared))
    assert fetch_before_serving(replica)[0] is not None
    (shared / "CURRENT").write_text("v000009\n", encoding="utf-8")  # names a missing version
    fetched, error = fetch_before_serving(replica)
    assert fetched is None and error is not None and "v000009" in str(error)
    assert IndexStore(replica.index_root).current().name == version.name  # type: ignore[union-attr]


def test_before_serving_a_replica_without_a_version_refuses_a_damaged_store(
    tmp_path: Path,
) -> None:
    shared, _ = _published(tmp_path)
    (shared / "CURRENT").write_text("v000009\n", encoding="utf-8")
    replica = make_settings(tmp_path / "replica", store_url=str(shared))
    with pytest.raises(StorageError, match="v000009"):
        fetch_before_serving(replica)
    assert IndexStore(replica.index_root).current() is None
