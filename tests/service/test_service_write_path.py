"""The live write path under the service (recommender.ingestion.updates) and the engine's swap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Catalogue, IndexStore, LockedError, WriterLock
from recommender.embedding.embedder import Embedder
from recommender.ingestion.updates import InvalidBatch, unpublish_article, upsert_articles
from recommender.operations.indexing import publish_index
from recommender.serving.engine import Engine, UnknownArticle
from tests.conftest import make_settings

DRONES = {
    "id": "drone-001",
    "title": "Parcelbird resumes drone deliveries after safety review",
    "body": "Parcelbird will restart drone deliveries in Northgate on Monday after the National "
    "Aviation Authority cleared the changes it made following last month's emergency landing.",
    "section": "business",
    "published_at": "2026-10-09T09:00:00Z",
}


@pytest.fixture
def engine(sample_home: Path, embedder: Embedder) -> Iterator[Engine]:
    engine = Engine(make_settings(sample_home), embedder=embedder)
    yield engine
    engine.close()


def listed(engine: Engine, source: str) -> set[str]:
    lists = engine.lists_for(source)
    return {item.article.id for item in lists.more_like_this + lists.related}


def test_upserted_article_is_listed_at_once(engine: Engine) -> None:
    report = upsert_articles(engine, [DRONES])
    assert (report.added, report.embedded, report.index_version) == (1, 1, "v000001+1")
    assert "drone-001" in listed(engine, "sample-070")


def test_unchanged_article_is_not_embedded_again(engine: Engine) -> None:
    upsert_articles(engine, [DRONES])
    report = upsert_articles(engine, [DRONES])
    assert (report.unchanged, report.embedded) == (1, 0)


def test_changing_only_the_section_needs_no_embedding(engine: Engine) -> None:
    upsert_articles(engine, [DRONES])
    report = upsert_articles(engine, [{**DRONES, "section": "science"}])
    assert (report.updated, report.embedded) == (1, 0)
    assert engine.catalogue.get("drone-001").section == "science"  # type: ignore[union-attr]


def test_invalid_batch_names_each_bad_article_and_writes_nothing(engine: Engine) -> None:
    batch = [DRONES, {"id": "x", "title": ""}, {"title": "no id"}]
    with pytest.raises(InvalidBatch) as caught:
        upsert_articles(engine, batch)
    assert [pos for pos, _ in caught.value.problems] == [1, 2]
    assert "title" in caught.value.problems[0][1] and "id" in caught.value.problems[1][1]
    assert engine.catalogue.get("drone-001") is None


def test_unpublished_article_leaves_lists_at_once(engine: Engine) -> None:
    upsert_articles(engine, [DRONES])
    version = unpublish_article(engine, "drone-001")
    assert version == "v000001+2"
    assert "drone-001" not in listed(engine, "sample-070")


def test_unpublishing_an_unknown_article_raises(engine: Engine) -> None:
    with pytest.raises(UnknownArticle):
        unpublish_article(engine, "never-was")


def test_write_waits_for_the_writer_lock_then_gives_up(engine: Engine, sample_home: Path) -> None:
    with WriterLock(sample_home, purpose="ingest"), pytest.raises(LockedError, match="ingest"):
        upsert_articles(engine, [DRONES], lock_wait=0.1)


def test_every_change_moves_the_generation_on(engine: Engine) -> None:
    start = engine.generation
    upsert_articles(engine, [DRONES])
    after_upsert = engine.generation
    unpublish_article(engine, "drone-001")
    assert start < after_upsert < engine.generation


def test_load_swaps_in_a_newly_published_version(engine: Engine, sample_home: Path) -> None:
    upsert_articles(engine, [DRONES])
    generation = engine.generation
    settings = make_settings(sample_home)
    with WriterLock(sample_home), Catalogue(settings.catalogue_path) as catalogue:
        publish_index(catalogue, IndexStore(settings.index_root), settings)
    engine.load()
    assert engine.index_version == "v000002"
    assert engine.generation > generation
    assert "drone-001" in listed(engine, "sample-070")


def test_load_replays_changes_made_after_the_build(engine: Engine, sample_home: Path) -> None:
    upsert_articles(engine, [DRONES])  # after v000001 was built
    engine.load()  # the same version again, built before the upsert
    assert engine.index_version == "v000001+1"
    assert "drone-001" in listed(engine, "sample-070")
