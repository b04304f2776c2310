"""Specification of neighbourhoods: augmented vectors, the neighbour table and its freshness."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from index import Catalogue, FlatIndex
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.signals.lexical import LexicalIndex
from recommender.signals.neighbourhood import (
    Neighbourhoods,
    NeighbourTable,
    NeighbourTableError,
    TableShape,
    augmented,
    build_table,
    hood_of,
)
from tests.conftest import make_settings
from tests.handmade import PLAIN, STORM_DOCS, build_home, unit


def test_an_augmented_vector_adds_beta_times_the_neighbour_mean() -> None:
    own = np.array([[1.0, 0.0]], dtype=np.float32)
    hood = np.array([[[0.0, 1.0], [0.0, 1.0]]], dtype=np.float32)
    got = augmented(own, hood, beta=1.0)
    np.testing.assert_allclose(got[0], [math.sqrt(0.5), math.sqrt(0.5)], rtol=1e-6)


def test_neighbours_are_chosen_by_the_hybrid_score_without_the_article_itself() -> None:
    shape = TableShape(neighbours=1, hood_blend=0.5)
    # 0.5 * cosine + 0.5 * lexical: doc 8 scores 0.5 * 0.5 + 0.5 * 1.0 = 0.75, doc 9 0.45.
    best = hood_of(
        7,
        np.array([7, 9, 8], dtype=np.int64),
        np.array([1.0, 0.9, 0.5], dtype=np.float32),
        np.array([1.0, 0.0, 1.0], dtype=np.float32),
        shape,
    )
    assert best.tolist() == [8]


def _tiny_table(shape: TableShape) -> NeighbourTable:
    vectors = np.stack([unit(1, 0, 0), unit(1, 0.1, 0), unit(0, 1, 0), unit(0, 1, 0.2)])
    docs = np.array([10, 11, 12, 13], dtype=np.int64)
    index = FlatIndex(3)
    index.add(docs, vectors)
    lexical = LexicalIndex()
    lexical.put_many(
        [(10, "cocoa crop", ""), (11, "cocoa crop", ""), (12, "oil well", ""), (13, "oil", "")]
    )
    return build_table(index, docs, vectors, lexical, seq=5, shape=shape)


def test_a_table_row_never_holds_its_article_and_ranks_by_augmented_cosine() -> None:
    table = _tiny_table(TableShape(neighbours=1, beta=1.0, pool=3, depth=3))
    row = table.row(10)
    assert row is not None
    assert table.docs[row].tolist()[0] == 11
    assert 10 not in table.docs[row].tolist()
    assert np.all(np.diff(table.cosine[row].astype(np.float32)) <= 1e-3)
    assert table.lexical[row][0] == pytest.approx(1.0, abs=1e-3)  # same words as the source
    assert table.seq == 5


def test_a_table_round_trips_through_its_arrays() -> None:
    table = _tiny_table(TableShape(neighbours=1, pool=3, depth=2))
    again = NeighbourTable.from_arrays(table.to_arrays())
    assert again is not None
    np.testing.assert_array_equal(again.docs, table.docs)
    assert again.seq == table.seq


def test_a_table_stores_each_articles_augmented_vector() -> None:
    # neighbours 1, beta 1: article 10's one neighbour is 11 (same words, cosine 0.995).
    table = _tiny_table(TableShape(neighbours=1, beta=1.0, pool=3, depth=2))
    row = table.row(10)
    assert table.vectors is not None and row is not None
    expected = augmented(unit(1, 0, 0)[None, :], unit(1, 0.1, 0)[None, None, :], beta=1.0)[0]
    np.testing.assert_allclose(table.vectors[row].astype(np.float32), expected, atol=1e-3)


def test_a_table_without_stored_vectors_gives_the_same_augmented_vectors() -> None:
    # Tables published before vectors were stored make them from the neighbourhoods.
    shape = TableShape(neighbours=1, beta=1.0, pool=3, depth=2)
    table = _tiny_table(shape)
    assert table.vectors is not None
    index = FlatIndex(3)
    index.add(
        np.array([10, 11, 12, 13], dtype=np.int64),
        np.stack([unit(1, 0, 0), unit(1, 0.1, 0), unit(0, 1, 0), unit(0, 1, 0.2)]),
    )
    live = np.ones(14, dtype=bool)
    docs = np.array([12, 10], dtype=np.int64)
    stored = Neighbourhoods(table, shape, 3)
    made = Neighbourhoods(dataclasses.replace(table, vectors=None), shape, 3)
    expected = stored.augmented(docs, index, live)
    np.testing.assert_allclose(made.augmented(docs, index, live), expected, atol=1e-3)
    row = table.row(10)
    assert row is not None
    np.testing.assert_allclose(made.row_augmented(10, row, index, live), expected[1], atol=1e-3)


def test_without_neighbours_a_table_stores_no_vectors_of_its_own() -> None:
    # Augmented by nothing, they would be the index's vectors again.
    assert _tiny_table(TableShape(neighbours=0, pool=3, depth=2)).vectors is None


def test_an_incomplete_table_is_refused_naming_what_is_missing() -> None:
    arrays = _tiny_table(TableShape(neighbours=1, pool=3, depth=2)).to_arrays()
    del arrays["hood"]
    with pytest.raises(NeighbourTableError, match="hood missing"):
        NeighbourTable.from_arrays(arrays)


DOCS = STORM_DOCS


def test_an_article_changed_after_the_table_is_scored_as_it_is_now(tmp_path: Path) -> None:
    settings = build_home(tmp_path / "home", DOCS, **PLAIN)
    engine = Engine(settings)
    before = engine.lists_for("S", ListRequest(k_more=1, k_related=0)).more_like_this
    with Catalogue(settings.catalogue_path) as catalogue:
        record = catalogue.get("E")
        assert record is not None
        changed = dataclasses.replace(record, content_hash="hash-E-rewritten")
        catalogue.upsert([changed], {"E": unit(1, 0, 0.33)})  # cos 0.95 with S: above B
    engine.refresh()
    after = engine.lists_for("S", ListRequest(k_more=1, k_related=0)).more_like_this
    engine.close()
    assert [i.article.id for i in before] == ["B"]
    assert [i.article.id for i in after] == ["E"]
    assert after[0].similarity == pytest.approx(float(unit(1, 0, 0.33)[0]), abs=1e-5)


def test_a_serving_engine_reads_its_neighbour_table_without_mapping_it(sample_home: Path) -> None:
    # The table's files hold a row per article: mapped, each row read would map the 64 KB
    # around it (and the load's value check, every page), counted as the process's memory.
    engine = Engine(make_settings(sample_home))
    for n in range(1, 81):
        engine.lists_for(f"sample-{n:03d}", ListRequest(k_more=5, k_related=5))
    version = engine.index_version
    mapped, current = 0, ""
    table_files = str(sample_home / "index")
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if not parts[0].endswith(":"):
            current = parts[5] if len(parts) >= 6 else ""
        elif parts[0] == "Rss:" and current.startswith(table_files) and "/extra-" in current:
            mapped += int(parts[1])
    engine.close()
    assert version and mapped == 0
