"""Catching a worker up to a catalogue generation (service/freshness.py), on a real engine.

No follower runs here: what another process wrote reaches the engine only through the
catch-up, so these tests show that a read asking for a generation applies it at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.exceptions import RequestValidationError

from index import Catalogue, WriterLock
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import article_from_mapping, embedding_text
from recommender.serving.engine import Engine, UnknownArticle
from service.freshness import CatchUp
from tests.conftest import make_settings


@pytest.fixture
def engine(sample_home: Path, embedder: Embedder) -> Iterator[Engine]:
    """An engine over a private copy of the sample, with no follower."""
    served = Engine(make_settings(sample_home), embedder=embedder)
    yield served
    served.close()


def _written_elsewhere(home: Path, embedder: Embedder, article_id: str) -> int:
    """Upsert one article as another worker or ``newsrec ingest`` would; its generation."""
    record = article_from_mapping(
        {"id": article_id, "title": "Night buses return to the harbour line", "section": "city"}
    )
    vector = embedder.encode([embedding_text(record.title, record.body)])[0]
    with WriterLock(home), Catalogue(home / "catalogue.sqlite") as catalogue:
        catalogue.upsert([record], {record.id: vector})
        return catalogue.last_seq()


def test_a_generation_written_elsewhere_is_applied_at_once(
    engine: Engine, sample_home: Path, embedder: Embedder
) -> None:
    catch_up = CatchUp(engine, wait_seconds=1.0, retry_after_seconds=1)
    generation = _written_elsewhere(sample_home, embedder, "night-buses")
    assert not catch_up.reached(generation)
    with pytest.raises(UnknownArticle):
        engine.lists_for("night-buses")
    started = time.monotonic()
    catch_up.wait_for(generation)
    assert time.monotonic() - started < 1.0
    assert catch_up.reached(generation)
    assert engine.lists_for("night-buses").source is not None


def test_a_generation_already_reached_needs_no_catch_up(engine: Engine) -> None:
    catch_up = CatchUp(engine, wait_seconds=0.0, retry_after_seconds=1)
    assert catch_up.reached(engine.state.seq)
    catch_up.wait_for(engine.state.seq)  # returns at once, even with no time to wait


def test_a_generation_the_catalogue_never_produced_is_refused_at_once(engine: Engine) -> None:
    catch_up = CatchUp(engine, wait_seconds=5.0, retry_after_seconds=1)
    started = time.monotonic()
    with pytest.raises(RequestValidationError) as refused:
        catch_up.wait_for(engine.catalogue.last_seq() + 1)
    assert time.monotonic() - started < 1.0
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("query", "min_generation")
    assert "is not in the catalogue" in problem["msg"]
