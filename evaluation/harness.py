"""The bench a list protocol runs on: the evaluation home, its engine, baselines and figures."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.baselines import (
    Bm25Scorer,
    EmbeddingScorer,
    PopularityScorer,
    RandomScorer,
    Scorer,
    TfidfScorer,
    scorer_run,
)
from evaluation.corpus import Corpus, load_corpus
from evaluation.duplicates import StoryJudge
from evaluation.engine_lists import ENGINE_LISTS, ListName, engine_run
from evaluation.figures import RunFigures, run_figures
from evaluation.reading import log_events, read_counts
from evaluation.runs import Qrels, Run
from evaluation.tasks import ListTask
from evaluation.vector_cache import CachingEmbedder
from evaluation.workspace import prepare_home
from recommender.embedding.embedder import load_embedder, planned_backend, vector_identity
from recommender.serving.engine import Engine
from recommender.settings import Settings

__all__ = [
    "BASELINES",
    "DEFAULT_CACHE",
    "METHOD_NOTES",
    "NEWSREC_METHODS",
    "ListResult",
    "MethodResult",
    "Workbench",
    "default_methods",
    "evaluate_list_task",
    "evaluate_methods",
    "method_run",
    "open_workbench",
    "temporary_out",
]

#: Baselines ranked beside newsrec in every list protocol.
BASELINES = ("random", "most_popular", "tfidf", "bm25", "embedding")
#: newsrec's own lists, as the engine serves them.
NEWSREC_METHODS: tuple[ListName, ...] = ENGINE_LISTS
#: One line per method for reports.
METHOD_NOTES = {
    "random": "baseline: random order",
    "most_popular": "baseline: the same most-read articles for every source",
    "tfidf": "baseline: TF-IDF cosine (scikit-learn), the search engine's more-like-this",
    "bm25": "baseline: Okapi BM25 with the source's terms as the query",
    "embedding": "baseline: cosine of the stored embeddings, nothing else",
    "more_like_this": "newsrec More like this (engine, k_more only)",
    "related": "newsrec Related (engine, k_related only), settings as configured",
    "popular": "newsrec Popular (engine, k_popular only)",
    "related+popular": "newsrec Related then Popular, half the length each, as a page shows them",
    "related_tuned": "newsrec Related with the sweep's best settings",
    "logged": "the order readers were served (logged protocol's baseline)",
    "current": "the engine over the serving home, its settings without --set, replayed",
    "candidate": "the engine over the serving home with the --set overlay, replayed",
}
#: Where embeddings are cached between runs unless another folder is named.
DEFAULT_CACHE = Path.home() / ".cache" / "newsrec-eval"


@dataclass(frozen=True)
class MethodResult:
    """One method's lists and figures."""

    name: str
    run: Run
    per_query: dict[str, Any]
    figures: dict[str, float | None]
    seconds: float


@dataclass
class ListResult:
    """Every method of one list protocol run."""

    methods: dict[str, MethodResult] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    catalogue_size: int = 0


@dataclass
class Workbench:
    """An evaluation home with its settings, corpus view, engine and cached embedder."""

    settings: Settings
    corpus: Corpus
    engine: Engine
    embedder: CachingEmbedder
    judge: StoryJudge
    scorers: dict[str, Scorer] = field(default_factory=dict)

    def scorer(self, name: str, seed: int) -> Scorer:
        """The baseline ``name``, built on first use."""
        if name not in self.scorers:
            corpus = self.corpus
            builders: dict[str, Callable[[], Scorer]] = {
                "random": lambda: RandomScorer(len(corpus), seed),
                "most_popular": lambda: PopularityScorer(corpus.popularity),
                "tfidf": lambda: TfidfScorer(corpus.texts),
                "bm25": lambda: Bm25Scorer(corpus.texts),
                "embedding": lambda: EmbeddingScorer(corpus.vectors),
            }
            if name not in builders:
                raise ValueError(f"unknown baseline {name!r}; expected one of {list(builders)}")
            self.scorers[name] = builders[name]()
        return self.scorers[name]

    def settings_with(self, overrides: Mapping[str, Any]) -> Settings:
        """This home's settings with ``overrides`` (any setting, by name), validated."""
        return Settings(**{**self.settings.model_dump(), **overrides, "home": self.settings.home})

    def engine_for(self, overrides: Mapping[str, Any]) -> Engine:
        """An engine over the same home with other settings (for sweeps); the engine builds
        its weights from them, as a service started with those settings would."""
        if not overrides:
            return self.engine
        return Engine(self.settings_with(overrides), embedder=self.embedder)

    def close(self) -> None:
        """Release the catalogue."""
        self.engine.close()


@contextlib.contextmanager
def temporary_out(out: Path | None) -> Iterator[Path]:
    """``out`` (created), or a temporary folder removed afterwards."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        yield out
        return
    with tempfile.TemporaryDirectory(prefix="newsrec-eval-") as folder:
        yield Path(folder)


def open_workbench(
    task: ListTask,
    out: Path,
    *,
    settings_overrides: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> Workbench:
    """Ingest ``task``'s articles into ``out/home`` and open everything the methods need."""
    overrides = dict(settings_overrides or {})
    probe = Settings(home=out / "home", **overrides)
    embedder = CachingEmbedder(
        cache_dir or DEFAULT_CACHE,
        model=vector_identity(probe),
        max_seq_length=probe.max_seq_length,
        load=lambda: load_embedder(probe),
        backend=planned_backend(probe),
    )
    settings = prepare_home(
        task.articles,
        out / "home",
        embedder=embedder,
        popularity=task.popularity,
        events=task.events,
        settings_overrides=overrides,
        progress=progress,
    )
    corpus = load_corpus(settings)
    if task.events is not None:  # baselines count the reads the engine was given
        reads = read_counts(log_events([settings.home / task.events.name]))
        counts = np.array([reads.get(i, 0.0) for i in corpus.ids], dtype=np.float64)
        corpus = dataclasses.replace(corpus, popularity=counts)
    engine = Engine(settings, embedder=embedder)
    judge = StoryJudge(corpus.titles, corpus.vectors, corpus.row_of)
    return Workbench(settings, corpus, engine, embedder, judge)


def method_run(
    bench: Workbench,
    name: str,
    sources: Sequence[str],
    k: int,
    task: ListTask,
    seed: int,
    *,
    engine: Engine | None = None,
    progress: bool = False,
) -> Run:
    """The lists of method ``name`` for ``sources``."""
    for which in NEWSREC_METHODS:
        if name == which:
            return engine_run(
                engine or bench.engine,
                bench.corpus,
                sources,
                k,
                which,
                rule=task.rule,
                progress=progress,
            )
    return scorer_run(bench.scorer(name, seed), bench.corpus, sources, k, task.rule)


def evaluate_methods(
    bench: Workbench,
    task: ListTask,
    methods: Sequence[str],
    qrels: Qrels,
    ks: Sequence[int],
    seed: int,
    *,
    progress: bool = False,
) -> dict[str, MethodResult]:
    """Rank the judged sources of ``qrels`` with every method and compute its figures."""
    sources = sorted(q for q, docs in qrels.items() if any(r > 0 for r in docs.values()))
    results: dict[str, MethodResult] = {}
    for name in methods:
        started = time.perf_counter()
        run = method_run(bench, name, sources, max(ks), task, seed, progress=progress)
        seconds = time.perf_counter() - started
        figures: RunFigures = run_figures(run, qrels, ks, bench.corpus, bench.judge)
        results[name] = MethodResult(name, run, figures.per_query, figures.figures, seconds)
    return results


def default_methods(task: ListTask) -> list[str]:
    """Every baseline and newsrec list; most popular, Popular and Related+Popular only when
    the engine has reads to count."""
    read = task.events is not None or any(task.popularity.values())
    popular = ("most_popular", "popular", "related+popular")
    return [m for m in (*BASELINES, *NEWSREC_METHODS) if read or m not in popular]


def evaluate_list_task(
    task: ListTask,
    *,
    out: Path,
    ks: Sequence[int] = (5, 10, 20),
    seed: int = 0,
    settings_overrides: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    methods: Sequence[str] | None = None,
    progress: bool = False,
) -> ListResult:
    """Evaluate every method of a list ``task`` in a fresh home under ``out``."""
    bench = open_workbench(
        task, out, settings_overrides=settings_overrides, cache_dir=cache_dir, progress=progress
    )
    try:
        chosen = list(methods) if methods else default_methods(task)
        results = evaluate_methods(bench, task, chosen, task.qrels, ks, seed, progress=progress)
        settings = bench.settings.model_dump(mode="json", exclude={"api_key", "read_key"})
        return ListResult(results, settings, len(bench.corpus))
    finally:
        bench.close()
