"""The one rule of what to embed: only articles whose stored content differs, for ingest and
live upserts alike (``embed_changed``)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np

from index import ArticleRecord, Catalogue
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import article_from_mapping
from recommender.ingestion.updates import embed_changed


class _Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real: Embedder) -> None:
        self.real = real
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.real.encode(texts)


def _record(article_id: str, title: str) -> ArticleRecord:
    return article_from_mapping({"id": article_id, "title": title}, embedding_key="k")


def test_only_new_or_changed_articles_are_embedded(tmp_path: Path, embedder: Embedder) -> None:
    counting = _Counting(embedder)
    with Catalogue(tmp_path / "catalogue.sqlite") as catalogue:
        first = {"a": _record("a", "Bridge closed"), "b": _record("b", "Storm nears")}
        vectors = embed_changed(catalogue, first, lambda: cast(Embedder, counting))
        catalogue.upsert(list(first.values()), vectors)
        assert sorted(vectors) == ["a", "b"]
        again = {"a": _record("a", "Bridge closed"), "b": _record("b", "Storm hits the coast")}
        changed = embed_changed(catalogue, again, lambda: cast(Embedder, counting))
    assert sorted(changed) == ["b"]
    assert counting.texts[-1].startswith("Storm hits the coast")


def test_nothing_to_embed_never_loads_the_model(tmp_path: Path, embedder: Embedder) -> None:
    with Catalogue(tmp_path / "catalogue.sqlite") as catalogue:
        record = _record("a", "Bridge closed")
        catalogue.upsert([record], embed_changed(catalogue, {"a": record}, lambda: embedder))

        def refuse() -> Embedder:
            raise AssertionError("the model was loaded with nothing to embed")

        assert embed_changed(catalogue, {"a": record}, refuse) == {}
