"""Vector indexes: build time, query latency and recall@10 of newsrec's and its peers'.

Every method indexes the same vectors (real MIND headline embeddings, grown synthetically) and
answers the same queries, one at a time as a request would; recall@10 is measured against
exact inner-product search. Peers: scikit-learn ``NearestNeighbors`` (brute force), the
qdrant-client local mode (in memory) and usearch (HNSW).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from evaluation.bench.config import BenchConfig
from evaluation.bench.report import Report, Table
from index import Catalogue, IndexStore, VectorIndex, make_index
from recommender.operations.indexing import index_params
from recommender.settings import Settings, load_settings

__all__ = ["Method", "index_section", "methods"]

_K = 10
Search = Callable[[npt.NDArray[np.float32], int], npt.NDArray[np.int64]]


@dataclass(frozen=True)
class Method:
    """A way to index vectors: ``build(ids, vectors)`` returns a one-query search function."""

    name: str
    build: Callable[[npt.NDArray[np.int64], npt.NDArray[np.float32]], Search]
    ks: tuple[int, ...] = (_K,)  # neighbours asked per query; a row for each
    prebuilt: bool = False  # the index was built before (by a publish): no build time


def _newsrec(kind: str, settings: Settings) -> Callable[..., Search]:
    def build(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> Search:
        index = make_index(kind, vectors.shape[1], **index_params(kind, settings))
        index.add(ids, vectors)

        def search(query: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
            found: npt.NDArray[np.int64] = index.search(query[None, :], k)[0][0]
            return found

        return search

    return build


def _published(index: VectorIndex) -> Callable[..., Search]:
    def build(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> Search:
        def search(query: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
            found: npt.NDArray[np.int64] = index.search(query[None, :], k)[0][0]
            return found

        return search

    return build


def _sklearn(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> Search:
    from sklearn.neighbors import NearestNeighbors

    model = NearestNeighbors(algorithm="brute", metric="cosine").fit(vectors)

    def search(query: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
        found = model.kneighbors(query[None, :], n_neighbors=k, return_distance=False)[0]
        return np.asarray(ids[found], dtype=np.int64)

    return search


def _qdrant(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> Search:
    from qdrant_client import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection(
        "bench",
        vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.DOT),
    )
    client.upload_collection("bench", vectors=vectors, ids=ids.tolist(), batch_size=10_000)

    def search(query: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
        points = client.query_points("bench", query=query.tolist(), limit=k).points
        return np.array([int(p.id) for p in points], dtype=np.int64)

    return search


def _usearch(settings: Settings) -> Callable[..., Search]:
    def build(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> Search:
        from usearch.index import Index

        index = Index(
            ndim=vectors.shape[1],
            metric="ip",
            dtype="f32",
            connectivity=settings.hnsw_m,
            expansion_add=settings.hnsw_ef_construction,
            expansion_search=settings.hnsw_ef_search,
        )
        index.add(ids.astype(np.uint64), vectors)

        def search(query: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
            return np.asarray(index.search(query, k).keys, dtype=np.int64)

        return search

    return build


def methods(settings: Settings) -> list[Method]:
    """newsrec's two index kinds (with the settings' HNSW parameters) and the peers."""
    return [
        Method("newsrec flat (faiss exact)", _newsrec("flat", settings)),
        # The engine asks for `candidates` neighbours, which widens the HNSW beam to match.
        Method("newsrec hnsw (faiss)", _newsrec("hnsw", settings), (_K, settings.candidates)),
        Method("scikit-learn NearestNeighbors brute", _sklearn),
        Method("qdrant-client local (in memory)", _qdrant),
        Method("usearch hnsw", _usearch(settings)),
    ]


def _peer_key(name: str) -> str | None:
    for key in ("scikit-learn", "qdrant", "usearch"):
        if name.startswith(key):
            return "qdrant-local" if key == "qdrant" else key
    return None


def _exact(
    vectors: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> npt.NDArray[np.int64]:
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return np.asarray(flat.search(queries, _K)[1], dtype=np.int64)


def _measure(
    report: Report,
    table: Table,
    label: str,
    method: Method,
    ids: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    truth: npt.NDArray[np.int64],
    builds: int,
) -> None:
    build_seconds = []
    search: Search | None = None
    for _ in range(builds):
        search = None
        gc.collect()
        start = time.perf_counter()
        search = method.build(ids, vectors)
        build_seconds.append(time.perf_counter() - start)
    assert search is not None  # builds >= 1
    for k in method.ks:
        for query in queries[: min(20, len(queries))]:  # warm-up
            search(query, k)
        latencies, cpu, hits = [], [], []
        for row, query in enumerate(queries):
            start, start_cpu = time.perf_counter(), time.process_time()
            found = search(query, k)
            latencies.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            hits.append(len(set(found[:_K].tolist()) & set(ids[truth[row]].tolist())) / _K)
        name = method.name if k == _K else f"{method.name}, k={k} as the engine asks"
        report.row(
            table,
            label,
            len(ids),
            name,
            float("nan") if method.prebuilt else statistics.median(build_seconds),
            1e3 * statistics.median(latencies),
            1e3 * float(np.percentile(latencies, 99)),
            1e3 * statistics.median(cpu),
            float(np.mean(hits)),
        )


def _serving_collection(
    settings: Settings,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], VectorIndex]:
    with Catalogue(settings.catalogue_path, readonly=True) as catalogue:
        ids, vectors = catalogue.vectors()
    index, _ = IndexStore(settings.index_root).load()
    return ids, vectors, index


def index_section(
    report: Report,
    config: BenchConfig,
    real: npt.NDArray[np.float32],
    serving_home: Callable[[int], Settings],
) -> None:
    """Build and query every method at every configured size.

    Sizes up to the real collection use its first vectors; larger ones use the serving home
    of that size (real MIND and Reuters vectors, grown synthetically), whose published HNSW
    index is measured as it is served instead of being built a second time.
    """
    settings = load_settings()
    table = report.table(
        "Vector index",
        "Build, single-query latency and recall@10 against exact search",
        [
            "data",
            "vectors",
            "method",
            "build s",
            "query ms (median)",
            "query ms (p99)",
            "query CPU ms (median)",
            "recall@10",
        ],
    )
    report.note(
        table,
        f"HNSW: M={settings.hnsw_m}, efConstruction={settings.hnsw_ef_construction}, "
        f"efSearch={settings.hnsw_ef_search} (faiss and usearch alike), newsrec's vectors "
        f"stored {settings.hnsw_storage} (index/hnsw.py); queries are "
        f"{config.index_queries} articles of the collection, one at a time, each on one thread "
        "as newsrec serves them (builds use every core); CPU ms is the process's CPU time per "
        "query, which a busy shared machine does not inflate the way it does wall time",
    )
    report.note(
        table,
        "build s: median of the repeats for exact methods, one build for graph indexes; '-' "
        f"above {config.rebuild_limit:,} vectors, where the index published with the serving "
        "home is measured as served rather than built a second time",
    )
    rng = np.random.default_rng(7)
    for size in config.index_sizes:
        published: VectorIndex | None = None
        if size <= len(real):
            vectors, ids = real[:size], np.arange(size, dtype=np.int64)
            label = "real MIND headlines"
        else:
            ids, vectors, published = _serving_collection(serving_home(size))
            label = "MIND + Reuters + synthetic (clustered)"
            if size <= config.rebuild_limit:
                published = None
        queries = vectors[
            rng.choice(len(vectors), min(config.index_queries, len(vectors)), replace=False)
        ]
        truth = _exact(vectors, queries)
        for method in methods(settings):
            peer = _peer_key(method.name)
            if peer is not None and size > config.peer_limits.get(peer, 0):
                report.say(f"   ({method.name} not run at {size:,}: above its limit for this mode)")
                continue
            if published is not None and method.name.startswith(f"newsrec {published.kind}"):
                method = Method(
                    f"{method.name}, as published", _published(published), method.ks, prebuilt=True
                )
            graph = "hnsw" in method.name
            builds = 1 if graph else min(config.repeats, 3)
            _measure(report, table, label, method, ids, vectors, queries, truth, builds)
            gc.collect()
        del vectors, published
        gc.collect()
