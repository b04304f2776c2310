"""Benchmark homes: catalogues of real and synthetic articles with vectors already computed.

Embedding 100k or 1M texts would take hours and measure the model, not the engine, so the
articles are upserted with their vectors straight into the catalogue in big batches and the
index is published exactly as ``newsrec ingest`` publishes it. A finished home is marked with
the key of what it holds and reused by later runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluation.bench.corpora import NewsText
from index import Catalogue, IndexStore, WriterLock
from recommender.ingestion.articles import article_from_mapping
from recommender.operations.indexing import publish_index
from recommender.settings import Settings, load_settings

__all__ = ["HOME_MARKER", "build_home", "home_settings", "synthetic_articles"]

HOME_MARKER = "bench-home.json"
_BATCH = 10_000
_REUTERS_START = datetime(1987, 2, 26, tzinfo=UTC)
_REUTERS_DAYS = 230


def home_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for a benchmark home: the defaults, never the caller's ``NEWSREC_*`` variables."""
    return load_settings(home=home, **overrides)


def synthetic_articles(bases: Sequence[NewsText], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` articles to go with synthetic vectors: a real title and lead, numbered, with a
    date in the Reuters months and a heavy-tailed popularity count."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(bases), n)
    days = rng.uniform(0, _REUTERS_DAYS, n)
    views = np.minimum(rng.zipf(1.6, n), 100_000)
    out = []
    for i in range(n):
        base = bases[int(pick[i])]
        out.append(
            {
                "id": f"synthetic-{i}",
                "title": f"{base.title} #{i}",
                "body": base.body[:400],
                "published_at": (_REUTERS_START + timedelta(days=float(days[i]))).isoformat(),
                "popularity": int(views[i]),
            }
        )
    return out


#: The settings that decide what a home holds; scoring weights are read at query time.
_CONTENT_SETTINGS = (
    "model",
    "max_seq_length",
    "index_kind",
    "hnsw_threshold",
    "hnsw_m",
    "hnsw_ef_construction",
    "hnsw_ef_search",
    "hnsw_storage",
)


def _key(
    articles: Sequence[dict[str, Any]], vectors: npt.NDArray[np.float32], settings: Settings
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([articles[0], articles[-1], len(articles)], sort_keys=True).encode())
    digest.update(np.ascontiguousarray(vectors[:: max(1, len(vectors) // 1000)]).tobytes())
    digest.update(json.dumps({k: getattr(settings, k) for k in _CONTENT_SETTINGS}).encode())
    return digest.hexdigest()


def build_home(
    home: Path,
    articles: Sequence[dict[str, Any]],
    vectors: npt.NDArray[np.float32],
    **overrides: Any,
) -> tuple[Settings, bool]:
    """A home holding ``articles`` (ingest-shaped dicts) with ``vectors``, index published.

    Returns the home's settings and whether it was built now (False: reused from a run before).
    """
    if len(articles) != len(vectors):
        raise ValueError(f"got {len(articles)} articles but {len(vectors)} vectors")
    settings = home_settings(home, **overrides)
    key = _key(articles, vectors, settings)
    marker = home / HOME_MARKER
    try:
        if json.loads(marker.read_text(encoding="utf-8")).get("key") == key:
            return settings, False
    except (OSError, ValueError):
        pass
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with WriterLock(home, purpose="benchmark"), Catalogue(settings.catalogue_path) as catalogue:
        for start in range(0, len(articles), _BATCH):
            records = [
                article_from_mapping(raw, embedding_key=settings.embedding_key)
                for raw in articles[start : start + _BATCH]
            ]
            rows = vectors[start : start + _BATCH]
            catalogue.upsert(records, {r.id: rows[i] for i, r in enumerate(records)})
        publish_index(catalogue, IndexStore(settings.index_root), settings, rebuild=True)
    marker.write_text(json.dumps({"key": key, "articles": len(articles)}) + "\n", encoding="utf-8")
    return settings, True
