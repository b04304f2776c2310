"""Embedding speed: plain sentence-transformers in fp32 against newsrec's fast path, same texts.

Also checks that the speed costs no quality: the Reuters TEST slice is ingested twice, once with
fp32 vectors and once with fast-path vectors (topics stripped), both lists are made by the real
engine for every source with a topic, and nDCG@10 is judged with "shares a Reuters topic".
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluation.bench.config import BenchConfig
from evaluation.bench.corpora import mind_leads, reuters_stories, sample_articles
from evaluation.bench.homes import build_home
from evaluation.bench.report import Report, Table
from evaluation.bench.timing import interleaved
from recommender.embedding.embedder import (
    Embedder,
    SentenceTransformerEmbedder,
    cpu_has_native_bf16,
    load_embedder,
    resolve_model_path,
)
from recommender.embedding.model_weights import MPNET, ModelUnavailable
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import BUNDLED_MODEL, load_settings

__all__ = ["embedding_section", "plain_fp32"]

_K = 10


def plain_fp32() -> Callable[[Sequence[str]], npt.NDArray[np.float32]]:
    """The bundled model under plain sentence-transformers, fp32, its default batch and window."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model_path(BUNDLED_MODEL), device="cpu")

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = model.encode(list(texts), convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(out, dtype=np.float32)

    return encode


def _speed_rows(
    report: Report,
    config: BenchConfig,
    sets: list[tuple[str, list[str]]],
    paths: list[tuple[str, Callable[[Sequence[str]], Any]]],
    *,
    title: str = "Texts per second, same texts, interleaved repeats",
    ratio: tuple[int, int, str] = (0, -1, "fast / fp32 (median ratio)"),
) -> Table:
    """One row per text set: each path's texts per second, and the median ratio of the time
    of path ``ratio[0]`` to that of path ``ratio[1]`` over the interleaved repeats."""
    slower, faster, ratio_label = ratio
    table = report.table(
        "Embedding", title, ["texts", "n", *[f"{name} texts/s" for name, _ in paths], ratio_label]
    )
    report.note(table, f"median of {config.repeats} interleaved repeats after one warm-up each")
    for label, texts in sets:
        runs = interleaved([partial(f, texts) for _, f in paths], config.repeats)
        rates = [run.rate(len(texts)) for run in runs]
        ratios = [a / b for a, b in zip(runs[slower].seconds, runs[faster].seconds, strict=True)]
        report.row(table, label, len(texts), *rates, statistics.median(ratios))
    return table


def _ndcg_rows(
    report: Report,
    config: BenchConfig,
    data: Path,
    fast: Embedder,
    fp32: Callable[[Sequence[str]], npt.NDArray[np.float32]],
) -> None:
    from ranx import Qrels, Run, evaluate

    test = [s for s in reuters_stories(data) if s.split == "TEST" and s.title]
    judged = [s for s in test if s.labels][: config.ndcg_sources]
    # Candidates: the judged sources and the unlabelled TEST articles of the same stretch.
    pool = test[: max(test.index(judged[-1]) + 1, len(judged))] if judged else []
    texts = [s.text for s in pool]
    table = report.table(
        "Embedding",
        "Reuters TEST relatedness, fp32 vs fast path "
        "(labels: shared topic, stripped before ingest)",
        ["list", "sources", "candidates", "nDCG@10 fp32", f"nDCG@10 {fast.backend}", "delta"],
    )
    vectors = {"fp32": fp32(texts), "fast": fast.encode(texts)}
    qrels = {s.id: {c.id: 1 for c in pool if c.id != s.id and c.labels & s.labels} for s in judged}
    qrels = {q: d for q, d in qrels.items() if d}
    scores: dict[str, dict[str, float]] = {}
    for name, matrix in vectors.items():
        settings, _ = build_home(
            config.work / "homes" / f"reuters-test-{len(pool)}-{name}",
            [s.article() for s in pool],
            matrix,
        )
        engine = Engine(settings, embedder=fast)
        try:
            runs: dict[str, dict[str, dict[str, float]]] = {"more_like_this": {}, "related": {}}
            for source in judged:
                if source.id not in qrels:
                    continue
                lists = engine.lists_for(source.id, ListRequest(k_more=_K, k_related=_K))
                for list_name, items in (
                    ("more_like_this", lists.more_like_this),
                    ("related", lists.related),
                ):
                    runs[list_name][source.id] = {
                        item.article.id: float(_K - rank) for rank, item in enumerate(items)
                    } or {"none": 0.0}
        finally:
            engine.close()
        for list_name, run in runs.items():
            value = evaluate(Qrels(qrels), Run(run), f"ndcg@{_K}")
            scores.setdefault(list_name, {})[name] = float(value)
    for list_name, by_path in scores.items():
        report.row(
            table,
            list_name,
            len(qrels),
            len(pool),
            by_path["fp32"],
            by_path["fast"],
            by_path["fast"] - by_path["fp32"],
        )
    cosines = np.sum(vectors["fp32"] * vectors["fast"], axis=1)
    report.note(
        table,
        f"cosine between fp32 and fast-path vectors of the same text: min "
        f"{cosines.min():.5f}, median {np.median(cosines):.5f}",
    )


def _model_rows(
    report: Report, config: BenchConfig, sets: list[tuple[str, list[str]]], fast: Embedder
) -> None:
    """The bundled model against all-mpnet-base-v2, both on the fast path, same texts."""
    try:
        mpnet = load_embedder(load_settings(model=MPNET.name))
    except ModelUnavailable as exc:
        report.say(f"model comparison skipped: {exc}")
        return
    table = _speed_rows(
        report,
        config,
        sets,
        [(BUNDLED_MODEL, fast.encode), (MPNET.name, mpnet.encode)],
        title="Models on the fast path, same texts, interleaved repeats "
        "(README, Choosing the model)",
        ratio=(1, 0, "time ratio (median)"),
    )
    report.note(table, f"{mpnet.backend}; {MPNET.name} vectors have {mpnet.dim} dimensions")


def embedding_section(report: Report, config: BenchConfig) -> Embedder:
    """Measure and report embedding speed and quality; returns the fast-path embedder."""
    fast = load_embedder(load_settings())
    report.say(f"fast path: {fast.backend}")
    fp32 = plain_fp32()
    paths: list[tuple[str, Callable[[Sequence[str]], Any]]] = [("sentence-transformers fp32", fp32)]
    if config.mode == "full" and cpu_has_native_bf16() and fast.backend != "torch-bf16":
        bf16 = SentenceTransformerEmbedder(precision="bf16")
        paths.append(("torch bf16", bf16.encode))
    paths.append((fast.backend, fast.encode))
    data = config.data
    if data is not None:
        leads = [t.text for t in mind_leads(data)[: config.embed_leads]]
        stories = [t.text for t in reuters_stories(data, with_body=True)[: config.embed_stories]]
        sets = [("MIND headline+lead", leads), ("Reuters full story", stories)]
    else:
        sample = sample_articles()
        sets = [("sample article", [t.text for t in sample][: config.embed_leads])]
    _speed_rows(report, config, sets, paths)
    _model_rows(report, config, sets, fast)
    if data is not None and config.ndcg_sources:
        _ndcg_rows(report, config, data, fast, fp32)
    else:
        report.say("Reuters nDCG skipped: ../shared/data not found")
    threads = os.environ.get("OMP_NUM_THREADS", "all cores")
    report.meta.setdefault("notes", []).append(f"embedding threads: {threads}")
    return fast
