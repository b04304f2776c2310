"""The benchmark run: every section in turn, printing figures as they come, then the report."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.bench.config import BenchConfig
from evaluation.bench.corpora import (
    NewsText,
    grow_vectors,
    mind_headlines,
    reuters_stories,
    sample_articles,
)
from evaluation.bench.embedding import embedding_section
from evaluation.bench.engine import engine_section
from evaluation.bench.homes import build_home, synthetic_articles
from evaluation.bench.indexes import index_section
from evaluation.bench.machine import machine_facts
from evaluation.bench.report import RESULTS_NAME, Report, Table
from evaluation.bench.service import memory_rows, service_section
from evaluation.bench.vectors import cached_vectors
from recommender.embedding.embedder import Embedder, load_embedder
from recommender.settings import Settings, load_settings

__all__ = ["COMMANDS", "SECTIONS", "run_benchmarks"]

COMMANDS = {
    "quick": "make bench        # python -m evaluation.bench --quick --out bench-output",
    "full": "make bench-full   # nice python -m evaluation.bench --full --out .",
}

_INTRO = (
    "Every figure is a median over repeated runs on this machine, with peers measured on the "
    "same data in the same run. The machine is shared (see the load average), so absolute "
    "times are noisy; ratios taken in the same run are the figures to compare. "
    "Regenerate with the commands below."
)


class _Collections:
    """Real vectors (embedded once by newsrec's fast path) and their synthetic growth."""

    def __init__(self, config: BenchConfig, embedder: Embedder, report: Report) -> None:
        self.config = config
        data = config.data
        self.texts: list[NewsText]
        if data is not None:
            self.texts = mind_headlines(data, config.real_vectors)
            name = f"mind-headlines-{len(self.texts)}"
        else:
            self.texts = sample_articles()
            name = "sample-articles"
        started = time.perf_counter()
        self.real = cached_vectors(
            config.work,
            name,
            [t.text for t in self.texts],
            embedder,
            progress=config.mode == "full",
        )
        report.say(
            f"real vectors: {len(self.real):,} ({name}), ready in "
            f"{time.perf_counter() - started:.1f}s"
        )
        self.reuters: list[NewsText] = []
        self.reuters_vectors = np.zeros((0, self.real.shape[1]), dtype=np.float32)
        if data is not None and config.mode == "full":
            self.reuters = [s for s in reuters_stories(data) if s.title]
            self.reuters_vectors = cached_vectors(
                config.work,
                f"reuters-{len(self.reuters)}",
                [s.text for s in self.reuters],
                embedder,
                progress=True,
            )

    def home(self, size: int) -> tuple[Settings, list[str]]:
        """A home of ``size`` articles: MIND headlines, Reuters stories, then synthetic ones."""
        texts = [*self.texts, *self.reuters][:size]
        vectors = np.vstack([self.real, self.reuters_vectors])[:size]
        articles: list[dict[str, Any]] = [t.article() for t in texts]
        if size > len(texts):
            articles += synthetic_articles(texts, size - len(texts), seed=size)
            vectors = np.vstack([vectors, grow_vectors(vectors, size - len(texts), seed=size)])
        home = self.config.work / "homes" / f"serving-{size}"
        settings, _ = build_home(home, articles, vectors)
        return settings, [a["id"] for a in articles]


SECTIONS = ("embedding", "index", "engine", "service", "memory")


def _keep_other_sections(report: Report, out: Path, sections: tuple[str, ...]) -> None:
    """Carry over the tables of sections not run now from the report already in ``out``."""
    try:
        previous = json.loads((out / RESULTS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    titles = {
        "embedding": "Embedding",
        "index": "Vector index",
        "engine": "Engine",
        "service": "Service",
        "memory": "Memory",
    }
    ran = {titles[name] for name in sections}
    kept = [Table(**t) for t in previous.get("tables", []) if t.get("section") not in ran]
    order = list(titles.values())
    report.tables = sorted(kept + report.tables, key=lambda t: order.index(t.section))


def run_benchmarks(
    config: BenchConfig, report: Report | None = None, sections: tuple[str, ...] = SECTIONS
) -> Report:
    """Run ``sections`` of ``config``'s mode and write the report into ``config.out``.

    Tables of sections not run are kept from the report already in ``config.out``, so one
    section can be measured again without the hour the others take.
    """
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown benchmark section(s) {unknown}; known: {', '.join(SECTIONS)}")
    # The defaults are what is measured: a developer's NEWSREC_* variables must not leak in.
    for name in [n for n in os.environ if n.startswith("NEWSREC_")]:
        del os.environ[name]
    report = report or Report()
    report.meta.update(
        intro=_INTRO,
        machine=machine_facts(),
        commands=[COMMANDS["quick"], COMMANDS["full"]],
        mode=config.mode,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        data=str(config.data) if config.data else "bundled sample (../shared/data not found)",
    )
    started = time.perf_counter()
    fast = embedding_section(report, config) if "embedding" in sections else None
    collections = _Collections(config, fast or load_embedder(load_settings()), report)
    homes: dict[int, tuple[Settings, list[str]]] = {}

    def serving_home(size: int) -> Settings:
        if size not in homes:
            report.say(f"\nbuilding (or reusing) the {size:,}-article serving home ...")
            homes[size] = collections.home(size)
        return homes[size][0]

    if "index" in sections:
        index_section(report, config, collections.real, serving_home)

    if {"engine", "service", "memory"} & set(sections):
        settings = serving_home(config.engine_size)
        ids = homes[config.engine_size][1]
        if "engine" in sections:
            engine_section(report, config, settings)
        memory = (
            service_section(report, config, settings, ids, config.engine_size)
            if "service" in sections
            else None
        )
        if "memory" in sections:
            measured = {config.engine_size: memory} if memory is not None else {}
            memory_rows(
                report,
                config,
                [(size, serving_home(size), homes[size][1]) for size in config.memory_sizes],
                measured,
            )

    report.meta["seconds"] = round(time.perf_counter() - started, 1)
    report.meta["sections"] = list(sections)
    report.meta["machine"]["load_average_1_5_15_at_end"] = machine_facts()["load_average_1_5_15"]
    if tuple(sections) != SECTIONS:
        _keep_other_sections(report, config.out, sections)
    markdown, results = report.write(config.out)
    report.say(f"\n{report.figure_count()} rows of figures; wrote {markdown} and {results}")
    return report
