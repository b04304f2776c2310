"""Embedding speed: plain sentence-transformers in fp32 against each OpenVINO path (fp32, bf16
where the CPU has it, int8), same texts, measured twice: with the CPU's full instruction set, and
in a child process that sees an AVX2-only CPU (:func:`evaluation.bench.machine.avx2_only_env`),
whose kernels are reported to show the restriction held.

Also checks that the speed costs no quality: the Reuters TEST slice is ingested twice, once with
fp32 vectors and once with fast-path vectors (topics stripped), both lists are made by the real
engine for every source with a topic, and nDCG@10 is judged with "shares a Reuters topic".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluation.bench.config import BenchConfig
from evaluation.bench.corpora import mind_leads, reuters_stories, sample_articles
from evaluation.bench.homes import build_home
from evaluation.bench.machine import avx2_only_env
from evaluation.bench.report import Report, Table
from evaluation.bench.timing import interleaved
from recommender.embedding.embedder import (
    Embedder,
    load_embedder,
    planned_backend,
    resolve_model_path,
)
from recommender.embedding.model_weights import MPNET, ModelUnavailable
from recommender.embedding.precision import cpu_flags
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import BUNDLED_MODEL, load_settings

__all__ = ["embedding_section", "plain_fp32", "speed_figures"]

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


def speed_figures(sets: list[tuple[str, list[str]]], repeats: int) -> dict[str, Any]:
    """Texts per second of plain fp32 and of every OpenVINO precision this CPU runs, same texts.

    The paths take turns within each repeat (:func:`interleaved`), so a busy machine slows them
    alike; ``ratios`` are medians of per-repeat time ratios to plain fp32. Also returns the path
    ``auto`` takes here, the kernels each OpenVINO path's matrix products ran and torch's CPU
    capability: what shows an instruction-set restriction held.
    """
    import torch

    from recommender.embedding.openvino import OpenVINOEmbedder

    flags = cpu_flags()
    precisions = ["fp32", "int8"]
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        precisions.insert(1, "bf16")
    embedders = [OpenVINOEmbedder(precision=p) for p in precisions]
    paths: list[tuple[str, Callable[[Sequence[str]], Any]]] = [
        ("sentence-transformers fp32", plain_fp32())
    ]
    paths += [(e.backend, e.encode) for e in embedders]
    rows = []
    for label, texts in sets:
        runs = interleaved([partial(f, texts) for _, f in paths], repeats)
        rows.append(
            {
                "texts": label,
                "n": len(texts),
                "rates": [run.rate(len(texts)) for run in runs],
                "ratios": [
                    statistics.median(
                        a / b for a, b in zip(runs[0].seconds, run.seconds, strict=True)
                    )
                    for run in runs
                ],
            }
        )
    return {
        "paths": [name for name, _ in paths],
        "rows": rows,
        "auto": planned_backend(load_settings(embed_backend="auto", embed_precision="auto")),
        "kernels": {e.backend: e.kernels() for e in embedders},
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def _avx2_only_figures(config: BenchConfig, sets: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """:func:`speed_figures` in a child process that sees a CPU with AVX2 only."""
    env = avx2_only_env(config.work)
    job = config.work / "embedding-avx2-job.json"
    result = config.work / "embedding-avx2-result.json"
    job.write_text(json.dumps({"sets": sets, "repeats": config.repeats}), encoding="utf-8")
    result.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "evaluation.bench.embedding", str(job), str(result)],
        env={**os.environ, **env},
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return figures


def _isa_table(report: Report, config: BenchConfig, isa: str, figures: dict[str, Any]) -> None:
    paths: list[str] = figures["paths"]
    table = report.table(
        "Embedding",
        f"Texts per second, {isa}, same texts, interleaved repeats",
        ["texts", "n", *[f"{p} texts/s" for p in paths], *[f"{p} / fp32" for p in paths[1:]]],
    )
    for row in figures["rows"]:
        report.row(table, row["texts"], row["n"], *row["rates"], *row["ratios"][1:])
    report.note(
        table,
        f"median of {config.repeats} interleaved repeats after one warm-up each; ratios are "
        "medians of per-repeat time ratios to plain sentence-transformers fp32",
    )
    report.note(table, f"auto chooses here: {figures['auto']}")
    kernels = "; ".join(
        f"{path}: " + ", ".join(f"{k} x{n}" for k, n in sorted(found.items()))
        for path, found in figures["kernels"].items()
    )
    report.note(
        table,
        f"kernels of the matrix products: {kernels}; torch CPU capability "
        f"{figures['torch_cpu_capability']}",
    )


def embedding_section(report: Report, config: BenchConfig) -> Embedder:
    """Measure and report embedding speed and quality; returns the fast-path embedder."""
    fast = load_embedder(load_settings())
    report.say(f"fast path (auto): {fast.backend}")
    data = config.data
    if data is not None:
        leads = [t.text for t in mind_leads(data)[: config.embed_leads]]
        stories = [t.text for t in reuters_stories(data, with_body=True)[: config.embed_stories]]
        sets = [("MIND headline+lead", leads), ("Reuters full story", stories)]
    else:
        sample = sample_articles()
        sets = [("sample article", [t.text for t in sample][: config.embed_leads])]
    _isa_table(report, config, "full instruction set", speed_figures(sets, config.repeats))
    try:
        avx2 = _avx2_only_figures(config, sets)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        report.say(f"AVX2-only embedding run skipped: {exc}")
    else:
        _isa_table(report, config, "as on a CPU with AVX2 only", avx2)
    _model_rows(report, config, sets, fast)
    if data is not None and config.ndcg_sources:
        _ndcg_rows(report, config, data, fast, plain_fp32())
    else:
        report.say("Reuters nDCG skipped: ../shared/data not found")
    threads = os.environ.get("OMP_NUM_THREADS", "all cores")
    report.meta.setdefault("notes", []).append(f"embedding threads: {threads}")
    return fast


if __name__ == "__main__":
    # The child of _avx2_only_figures: python -m evaluation.bench.embedding JOB.json RESULT.json
    job_file, result_file = Path(sys.argv[1]), Path(sys.argv[2])
    job = json.loads(job_file.read_text(encoding="utf-8"))
    sets_in = [(str(label), [str(t) for t in texts]) for label, texts in job["sets"]]
    out = speed_figures(sets_in, int(job["repeats"]))
    tmp_file = result_file.with_name(f".tmp-{result_file.name}")
    tmp_file.write_text(json.dumps(out), encoding="utf-8")
    os.replace(tmp_file, result_file)
