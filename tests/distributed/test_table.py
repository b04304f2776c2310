"""The neighbour table on Ray: the same arrays as the in-process build, whatever the parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import Catalogue, IndexStore, make_index
from recommender.distributed.runtime import RayTarget
from recommender.distributed.table import build_table_on_ray
from recommender.operations.indexing import publish_index
from recommender.signals.lexical import LexicalIndex
from recommender.signals.neighbourhood import (
    RankedRows,
    TableShape,
    assemble_table,
    augment_rows,
    build_table,
    near_rows,
    pool_size,
    rank_rows,
    row_parts,
    table_rows,
)
from tests.conftest import make_settings
from tests.distributed.support import assert_same_table, clustered, index_of, published_table
from tests.reliability.support import invoke_newsrec

SHAPE = TableShape(neighbours=8, beta=4.0, hood_blend=0.3, pool=40, depth=30)


@pytest.mark.parametrize(
    ("rows", "parts", "spans"),
    [
        (0, 3, []),
        (2, 3, [(0, 1), (1, 2)]),
        (80, 2, [(0, 40), (40, 80)]),  # one search batch, searched by both parts
        (2100, 2, [(0, 1024), (1024, 2100)]),  # three batches: cut where one starts
        (5000, 3, [(0, 1024), (1024, 3072), (3072, 5000)]),
    ],
)
def test_parts_cover_the_rows_once_cut_where_search_batches_start_if_enough(
    rows: int, parts: int, spans: list[tuple[int, int]]
) -> None:
    assert row_parts(rows, parts) == spans


def test_parts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="parts must be at least 1, got 0"):
        row_parts(10, 0)


def test_the_passes_run_part_by_part_give_the_whole_builds_table() -> None:
    docs, vectors, lexical = clustered(2100)
    index = index_of("flat", docs, vectors)
    want = build_table(index, docs, vectors, lexical, seq=9, shape=SHAPE)
    sources, ordered = table_rows(docs, vectors)
    pool = pool_size(len(sources), SHAPE)
    spans = [(0, 500), (500, 1024), (1024, 2048), (2048, 2100)]  # within batches and not
    nears = [
        near_rows(index, sources, ordered, lexical, pool=pool, shape=SHAPE, rows=span)
        for span in spans
    ]
    hood = np.concatenate([near.hood for near in nears])
    augmented_all = augment_rows(sources, ordered, hood, SHAPE.beta)
    ranked = [
        rank_rows(sources, augmented_all, a, near, depth=min(SHAPE.depth, pool))
        for (a, _), near in zip(spans, nears, strict=True)
    ]
    whole = RankedRows(
        np.concatenate([r.docs for r in ranked]),
        np.concatenate([r.cosine for r in ranked]),
        np.concatenate([r.lexical for r in ranked]),
    )
    assert_same_table(assemble_table(sources, hood, whole, augmented_all, 9), want)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_table_built_on_ray_equals_the_in_process_one(ray_local: None, kind: str) -> None:
    docs, vectors, lexical = clustered(1100)  # two search batches: two parts
    index = index_of(kind, docs, vectors)
    want = build_table(index, docs, vectors, lexical, seq=4, shape=SHAPE)
    got = build_table_on_ray(index, docs, vectors, lexical, seq=4, shape=SHAPE, parts=3)
    assert_same_table(got, want)


def test_a_table_of_no_articles_is_empty_on_ray_too(ray_local: None) -> None:
    docs, vectors = np.zeros(0, np.int64), np.zeros((0, 8), np.float32)
    index = make_index("flat", 8)
    got = build_table_on_ray(index, docs, vectors, LexicalIndex(), seq=0, shape=SHAPE)
    assert_same_table(got, build_table(index, docs, vectors, LexicalIndex(), seq=0, shape=SHAPE))


def test_reindex_on_ray_publishes_the_in_process_reindexs_table(
    ray_local: None, sample_home: Path
) -> None:
    settings = make_settings(sample_home)
    with Catalogue(settings.catalogue_path) as catalogue:
        store = IndexStore(settings.index_root)
        publish_index(catalogue, store, settings, rebuild=True)
        here = published_table(sample_home)
        publish_index(catalogue, store, settings, rebuild=True, ray=RayTarget("local"))
    assert_same_table(published_table(sample_home), here)


def test_the_reindex_command_says_where_the_table_was_computed(
    ray_local: None, sample_home: Path
) -> None:
    before = published_table(sample_home)
    result = invoke_newsrec("reindex", "--home", sample_home, "--ray", "local")
    assert result.returncode == 0, result.stderr
    assert "published v000002: 80 vectors" in result.stdout
    assert "neighbour table on Ray: 2 parts on 1 node" in result.stderr
    assert_same_table(published_table(sample_home), before)
