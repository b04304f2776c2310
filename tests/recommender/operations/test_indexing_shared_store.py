"""Publishing with a shared index store: the builder pushes, replicas fetch, builders take turns."""

from __future__ import annotations

from pathlib import Path

from index import Catalogue, IndexStore
from index.shared_store import SharedStore
from recommender.operations.indexing import fetch_from_store, publish_index
from tests.conftest import make_settings
from tests.recommender.operations.test_indexing import _upsert


def test_a_published_version_reaches_a_replica_with_an_empty_home(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    builder = make_settings(tmp_path / "builder", store_url=str(shared))
    replica = make_settings(tmp_path / "replica", store_url=str(shared))
    with Catalogue(builder.catalogue_path) as catalogue:
        _upsert(catalogue, [1, 2, 3], builder)
        version = publish_index(catalogue, IndexStore(builder.index_root), builder)
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
