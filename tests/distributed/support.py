"""What the tests of batch work on Ray share: synthetic articles, and comparisons of tables
and of precomputed lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from index import IndexStore, VectorIndex, make_index
from recommender.signals.lexical import LexicalIndex
from recommender.signals.neighbourhood import NeighbourTable


def clustered(n: int, dim: int = 24, seed: int = 3) -> tuple[np.ndarray, np.ndarray, LexicalIndex]:
    """``n`` articles in 12 topics: doc ids (shuffled, with gaps), unit vectors, their words."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, 12, n)
    vectors = rng.normal(size=(12, dim))[topic] + 0.7 * rng.normal(size=(n, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = rng.permutation(np.arange(3, 3 + 2 * n, 2)).astype(np.int64)
    words = [f"word{i}" for i in range(200)]
    lexical = LexicalIndex()
    lexical.put_many(
        (int(doc), f"{words[t]} {' '.join(rng.choice(words, 4))}", " ".join(rng.choice(words, 12)))
        for doc, t in zip(docs, topic, strict=True)
    )
    return docs, vectors, lexical


def index_of(kind: str, docs: np.ndarray, vectors: np.ndarray) -> VectorIndex:
    index = make_index(kind, vectors.shape[1], **({"M": 16} if kind == "hnsw" else {}))
    index.add(docs, vectors)
    return index


def assert_same_table(got: NeighbourTable, want: NeighbourTable) -> None:
    got_arrays, want_arrays = got.to_arrays(), want.to_arrays()
    assert sorted(got_arrays) == sorted(want_arrays)
    for name, array in want_arrays.items():
        assert got_arrays[name].dtype == array.dtype, name
        np.testing.assert_array_equal(got_arrays[name], array, err_msg=name)


def published_table(home: Path) -> NeighbourTable:
    store = IndexStore(home / "index")
    current = store.current()
    assert current is not None
    table = NeighbourTable.from_arrays(store.extras(current))
    assert table is not None
    return table


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_ids(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines without their recommendation ids, which differ from run to run."""
    return [{k: v for k, v in line.items() if k != "recommendation_id"} for line in lines]
