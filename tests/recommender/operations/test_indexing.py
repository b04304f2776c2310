"""The published index: its kind chosen by size, kept current by replay, rebuilt when due."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import Catalogue, HNSWIndex, IndexStore
from recommender.ingestion.articles import article_from_mapping
from recommender.operations.indexing import index_kind_for, publish_index, rebuild_due
from recommender.settings import Settings
from tests.conftest import make_settings

DIM = 8


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _upsert(catalogue: Catalogue, ids: list[int], settings: Settings) -> None:
    records = [
        article_from_mapping(
            {"id": f"a{i}", "title": f"Article {i}"}, embedding_key=settings.embedding_key
        )
        for i in ids
    ]
    catalogue.upsert(records, {f"a{i}": _unit(i) for i in ids})


def _published(settings: Settings) -> tuple[object, list[str]]:
    store = IndexStore(settings.index_root)
    index, version = store.load()
    with Catalogue(settings.catalogue_path) as catalogue:
        found, _ = index.search(_unit(0)[None, :], 50)
        docs = [d for d in found[0].tolist() if d >= 0]
        ids = [r.id for r in catalogue.get_by_doc_ids(docs)]
    return version.manifest.kind, ids


@pytest.mark.parametrize(("count", "kind"), [(9, "flat"), (10, "hnsw"), (11, "hnsw")])
def test_auto_kind_switches_at_the_threshold(tmp_path: Path, count: int, kind: str) -> None:
    assert index_kind_for(count, make_settings(tmp_path, hnsw_threshold=10)) == kind


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_index_kind_setting_overrides_the_size_rule(tmp_path: Path, kind: str) -> None:
    settings = make_settings(tmp_path, index_kind=kind, hnsw_threshold=10)
    assert index_kind_for(5, settings) == kind
    assert index_kind_for(50_000, settings) == kind


def test_publish_builds_the_kind_the_catalogue_size_calls_for(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, hnsw_threshold=20)
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        _upsert(catalogue, list(range(19)), settings)
        assert publish_index(catalogue, store, settings).manifest.kind == "flat"
        _upsert(catalogue, [19], settings)
        assert publish_index(catalogue, store, settings).manifest.kind == "hnsw"


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_unpublished_articles_leave_every_index_kind(tmp_path: Path, kind: str) -> None:
    settings = make_settings(tmp_path, index_kind=kind)
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        _upsert(catalogue, list(range(30)), settings)
        publish_index(catalogue, store, settings)
        catalogue.unpublish("a0")
        catalogue.unpublish("a7")
        version = publish_index(catalogue, store, settings)
    assert version.manifest.count == 28
    _, found = _published(settings)
    assert "a0" not in found and "a7" not in found and len(found) == 28


def test_publish_replays_changes_onto_the_current_version(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, index_kind="hnsw", rebuild_tombstone_ratio=0.5)
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        _upsert(catalogue, list(range(40)), settings)
        publish_index(catalogue, store, settings)
        catalogue.unpublish("a3")
        publish_index(catalogue, store, settings)
    index, _ = store.load()
    assert isinstance(index, HNSWIndex)
    assert index.tombstone_ratio == pytest.approx(1 / 40)  # replayed, not rebuilt


def test_too_many_tombstones_make_the_next_publish_rebuild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, index_kind="hnsw", rebuild_tombstone_ratio=0.1)
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        _upsert(catalogue, list(range(40)), settings)
        publish_index(catalogue, store, settings)
        for i in range(5):  # 5 of 40 nodes dead: 0.125 > 0.1
            catalogue.unpublish(f"a{i}")
        publish_index(catalogue, store, settings)
    index, version = store.load()
    assert isinstance(index, HNSWIndex)
    assert index.tombstone_ratio == 0.0 and version.manifest.count == 35


def test_metadata_edits_leave_no_tombstones(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, index_kind="hnsw")
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        _upsert(catalogue, list(range(20)), settings)
        publish_index(catalogue, store, settings)
        edited = article_from_mapping(
            {"id": "a4", "title": "Article 4", "section": "world"},
            embedding_key=settings.embedding_key,
        )
        catalogue.upsert([edited], {})
        publish_index(catalogue, store, settings)
    index, _ = store.load()
    assert isinstance(index, HNSWIndex) and index.tombstone_ratio == 0.0


def test_rebuild_is_due_when_the_size_calls_for_another_kind(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, hnsw_threshold=5)
    index = HNSWIndex(DIM)
    index.add(np.arange(3), np.vstack([_unit(i) for i in range(3)]))
    assert rebuild_due(index, settings)  # 3 articles: flat is the right kind now


def test_a_table_made_before_vectors_were_stored_is_made_again_at_the_next_publish(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, index_kind="flat", neighbours=2)
    store = IndexStore(settings.index_root)
    with Catalogue(settings.catalogue_path) as catalogue:
        _upsert(catalogue, list(range(12)), settings)
        first = publish_index(catalogue, store, settings)
        # Publish the same index again as an older newsrec did: its table without vectors.
        index, _ = store.load(first)
        arrays = {k: np.array(v) for k, v in store.extras(first).items() if k != "table_vectors"}
        store.publish(
            index,
            model=settings.model,
            catalogue_seq=first.manifest.catalogue_seq,
            params=first.manifest.params,
            extras=arrays,
        )
        publish_index(catalogue, store, settings)  # nothing changed: a table would be kept
    current = store.current()
    assert current is not None
    assert store.extras(current)["table_vectors"].shape == (12, DIM)
