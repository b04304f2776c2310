"""Impressions protocol: MIND's own task, ranking each impression's candidates for its reader.

An impression is kept when the catalogue holds at least one of the reader's history articles,
one clicked and one skipped candidate (a partial MIND copy lacks the text of most ids; how many
were dropped is reported). Candidates are ranked by each method and judged per impression by
AUC, MRR (the MIND paper's definitions), nDCG@5 and nDCG@10 (ranx's, equal to MIND's for 0/1
labels), then averaged.

Each impression is judged at its own time, with only the reads before it: the reading log
(every reader's rows of ``behaviors.tsv``, read by the loader behind ``newsrec events``) is
replayed in time order into the engine (:mod:`evaluation.replay`), and the most-popular baseline
counts the same reads. A seeded part of the readers tunes (``--sweep``); the others are scored.

Methods: ``random``; ``most_popular``; ``tfidf`` (cosine to the mean TF-IDF of the history);
``embedding`` (cosine to the mean history vector); and ``related``, the engine's own Related
score of the candidates for the reader's history (``Engine.score_candidates``, the served
formula with its co-reads and popularity).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
from sklearn.preprocessing import normalize

from evaluation.baselines import TfidfScorer
from evaluation.config import EvaluationConfig
from evaluation.corpus import Corpus
from evaluation.datasets import Dataset, DatasetError
from evaluation.harness import MethodResult, Workbench, open_workbench
from evaluation.metrics import impression_auc, impression_mrr, judged_queries, ranx_figures
from evaluation.protocols.base import Outcome
from evaluation.reading import log_events
from evaluation.replay import EngineReplay, ReadsBefore
from evaluation.runs import Qrels, Run, ranked
from evaluation.splits import hash_unit, in_first_part, seeded_sample
from evaluation.sweeps import COREAD_SPACE, SweepResult, run_sweep, sweep_configs
from evaluation.tasks import ListTask
from index.events import Event
from recommender.serving.requests import MAX_K, ListRequest

__all__ = [
    "IMPRESSION_FIGURES",
    "IMPRESSION_METHODS",
    "ImpressionCase",
    "ImpressionTask",
    "ImpressionsProtocol",
    "impression_qrels",
    "impression_run",
    "impressions_task",
    "score_impressions",
]

IMPRESSION_METHODS = ("random", "most_popular", "tfidf", "embedding", "related")
IMPRESSION_FIGURES = ("auc", "mrr", "ndcg@5", "ndcg@10")
_TUNE_SALT = "reader-tune"
_BASELINES = ("random", "most_popular", "tfidf", "embedding")
# Candidate gathering and MMR do not apply when the candidates are given.
_NOT_SWEPT = ("popular_candidates", "coread_candidates", "mmr_lambda")


@dataclass(frozen=True, slots=True)
class ImpressionCase:
    """One kept impression: its reader's catalogue history and its judged candidates."""

    impression_id: str
    user: str
    time: datetime
    history: tuple[str, ...]
    candidates: tuple[str, ...]
    labels: tuple[int, ...]


@dataclass(frozen=True)
class ImpressionTask:
    """Impressions to score (in time order), the articles to ingest and the reading log.

    ``events`` are every reader's reads, as ``newsrec events`` reads the ``behaviors.tsv``, in
    time order: each impression is judged with those before it.
    """

    cases: list[ImpressionCase]
    tune_cases: list[ImpressionCase]
    list_task: ListTask
    events: list[Event]
    notes: dict[str, Any] = field(default_factory=dict)


def _cases(dataset: Dataset, users: set[str]) -> tuple[list[ImpressionCase], dict[str, int]]:
    known = set(dataset.ids)
    cases: list[ImpressionCase] = []
    dropped: dict[str, int] = defaultdict(int)
    for impression in dataset.impressions:
        if impression.user not in users:
            continue
        history = tuple(dict.fromkeys(h for h in impression.history if h in known))
        shown = [(c, 1) for c in impression.clicked if c in known] + [
            (c, 0) for c in impression.skipped if c in known
        ]
        # Equal scores keep candidate order, so that order must not follow the labels: a fixed
        # shuffle per impression instead of clicked-first (which gave ties to the clicks).
        shown.sort(key=lambda item: hash_unit(item[0], 0, f"order {impression.impression_id}"))
        if not history:
            dropped["no_history_in_catalogue"] += 1
        elif not any(label for _, label in shown):
            dropped["no_click_in_catalogue"] += 1
        elif all(label for _, label in shown):
            dropped["no_skip_in_catalogue"] += 1
        else:
            cases.append(
                ImpressionCase(
                    impression.impression_id,
                    impression.user,
                    impression.time,
                    history,
                    tuple(c for c, _ in shown),
                    tuple(label for _, label in shown),
                )
            )
    return cases, dict(dropped)


def _case_id(case: ImpressionCase) -> str:
    return case.impression_id


def _in_time_order(cases: list[ImpressionCase]) -> list[ImpressionCase]:
    return sorted(cases, key=lambda case: (case.time, case.impression_id))


def impressions_task(
    dataset: Dataset, seed: int, *, tune: bool = False, limit: int | None = None
) -> ImpressionTask:
    """Build the impressions task of a MIND ``dataset``; ``limit`` caps the scored impressions
    (a seeded sample).

    Raises:
        DatasetError: no impressions, or none left to score.
    """
    if not dataset.impressions:
        raise DatasetError("the impressions protocol needs a MIND behaviors.tsv beside the news")
    users = {i.user for i in dataset.impressions}
    tune_users = {u for u in users if tune and in_first_part(u, seed, _TUNE_SALT)}
    cases, dropped = _cases(dataset, users - tune_users)
    cases = _in_time_order(seeded_sample(cases, limit, seed, _case_id))
    tune_cases = _in_time_order(_cases(dataset, tune_users)[0])
    if not cases:
        raise DatasetError(
            "no impression of the judged readers has a history article, a clicked and a "
            "skipped candidate in the catalogue"
        )
    events = log_events(dataset.behaviors)
    notes: dict[str, Any] = {
        "impressions_total": len(dataset.impressions),
        "impressions_scored": len(cases),
        "impressions_tuning": len(tune_cases),
        "impressions_dropped": dropped,
        "readers_tuning": len(tune_users),
        "events_in_log": len(events),
        "candidates_per_impression": float(np.mean([len(c.candidates) for c in cases])),
        "engine_sees": "every reader's reads before the impression's time (behaviors.tsv, "
        "loaded as newsrec events loads it, replayed in time order)",
    }
    list_task = ListTask(
        protocol="impressions", articles=dataset.articles, qrels={}, tune_qrels={}, notes=notes
    )
    return ImpressionTask(cases, tune_cases, list_task, events, notes)


def _profile_scores(
    method: str, case: ImpressionCase, corpus: Corpus, tfidf: TfidfScorer | None
) -> np.ndarray:
    rows = corpus.rows(list(case.candidates))
    history = corpus.rows(list(case.history))
    if method == "tfidf" and tfidf is not None:
        profile = normalize(np.asarray(tfidf.matrix[history].mean(axis=0)))
        scores: np.ndarray = np.asarray(tfidf.matrix[rows] @ profile.T).ravel()
        return scores
    vector = corpus.vectors[history].mean(axis=0)
    vector /= max(float(np.linalg.norm(vector)), 1e-12)
    cosines: np.ndarray = (corpus.vectors[rows] @ vector).astype(np.float64)
    return cosines


def _engine_order(replay: EngineReplay, case: ImpressionCase) -> list[str]:
    request = ListRequest(k_more=0, k_related=min(len(case.candidates), MAX_K), k_popular=0)
    items = replay.engine.score_candidates(list(case.history), list(case.candidates), request)
    served = list(dict.fromkeys(item.article.id for item in items))
    # A candidate the engine left out (filtered, or past MAX_K) ranks after those it scored.
    return served + [c for c in case.candidates if c not in set(served)]


def impression_run(
    method: str,
    cases: Sequence[ImpressionCase],
    corpus: Corpus,
    *,
    seed: int,
    events: Sequence[Event] = (),
    replay: EngineReplay | None = None,
    tfidf: TfidfScorer | None = None,
) -> Run:
    """Every candidate of every impression in ``method``'s order, scored by rank.

    ``cases`` must be in time order: ``most_popular`` counts the ``events`` before each one, and
    ``related`` asks ``replay``'s engine, fed the events before each one.

    Raises:
        ValueError: an unknown method, or ``related`` without a replay.
    """
    if method not in IMPRESSION_METHODS:
        raise ValueError(f"unknown impressions method {method!r}; expected {IMPRESSION_METHODS}")
    if method == "related" and replay is None:
        raise ValueError("the related method needs an engine replay")
    if method == "tfidf" and tfidf is None:
        tfidf = TfidfScorer(corpus.texts)
    reads = ReadsBefore(events)
    run: Run = {}
    for case in cases:
        if method == "related":
            assert replay is not None  # checked above
            replay.advance(case.time)
            run[case.impression_id] = ranked(_engine_order(replay, case))
            continue
        if method == "random":
            scores = np.random.default_rng([seed, int(case.impression_id)]).random(
                len(case.candidates)
            )
        elif method == "most_popular":
            reads.advance(case.time)
            counts = reads.counts()
            scores = np.array([counts.get(c, 0.0) for c in case.candidates])
        else:
            scores = _profile_scores(method, case, corpus, tfidf)
        # Equal scores keep candidate order: a fixed shuffle that does not follow the labels.
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
        run[case.impression_id] = ranked([case.candidates[i] for i in order.tolist()])
    return run


def impression_qrels(cases: Sequence[ImpressionCase]) -> Qrels:
    """Clicked candidates as grade 1 and skipped ones as grade 0, per impression."""
    return {c.impression_id: dict(zip(c.candidates, c.labels, strict=True)) for c in cases}


def score_impressions(run: Run, cases: Sequence[ImpressionCase]) -> dict[str, np.ndarray]:
    """Per-impression AUC, MRR, nDCG@5 and nDCG@10, aligned with ``cases``.

    The run's order decides; a candidate missing from the run ranks last.
    """
    out = {name: np.zeros(len(cases)) for name in IMPRESSION_FIGURES}
    for i, case in enumerate(cases):
        rank = {doc: r for r, (doc, _) in enumerate(run.get(case.impression_id, []))}
        scores = np.array(
            [-rank[c] if c in rank else -np.inf for c in case.candidates], dtype=np.float64
        )
        labels = np.array(case.labels)
        out["auc"][i] = impression_auc(labels, scores)
        out["mrr"][i] = impression_mrr(labels, scores)
    qrels = impression_qrels(cases)
    position = {q: n for n, q in enumerate(judged_queries(qrels))}
    ndcg = ranx_figures(run, qrels, ["ndcg@5", "ndcg@10"])
    order = [position[case.impression_id] for case in cases]
    out["ndcg@5"], out["ndcg@10"] = ndcg["ndcg@5"][order], ndcg["ndcg@10"][order]
    return out


class ImpressionsProtocol:
    """MIND impressions judge: did the reader click what a method ranks first?"""

    name = "impressions"

    def label_fields(self, config: EvaluationConfig) -> tuple[str, ...]:
        """None: clicks judge."""
        return ()

    def run(self, config: EvaluationConfig, dataset: Dataset) -> Outcome:
        """Every method on the scored impressions, each judged with the reads before it."""
        task = impressions_task(
            dataset, config.seed, tune=config.sweep is not None, limit=config.limit_sources
        )
        bench = open_workbench(
            task.list_task,
            config.out,
            settings_overrides=config.settings_overrides,
            cache_dir=config.cache_dir,
            progress=config.progress,
        )
        try:
            sweep = _sweep(config, bench, task) if config.sweep is not None else None
            runs = {name: _timed(config, bench, task, name, {}) for name in IMPRESSION_METHODS}
            if sweep is not None:
                runs["related_tuned"] = _timed(config, bench, task, "related", sweep.best.config)
            settings = bench.settings.model_dump(mode="json", exclude={"api_key", "read_key"})
        finally:
            bench.close()
        methods: dict[str, MethodResult] = {}
        for name, (run, seconds) in runs.items():
            per_query = score_impressions(run, task.cases)
            figures: dict[str, float | None] = {n: float(v.mean()) for n, v in per_query.items()}
            figures["queries"] = float(len(task.cases))
            methods[name] = MethodResult(name, run, dict(per_query), figures, seconds)
        return Outcome(
            methods=methods,
            qrels=impression_qrels(task.cases),
            main_metric="auc",
            headline=list(IMPRESSION_FIGURES),
            beyond=[],
            baselines=_BASELINES,
            notes=dict(task.notes),
            settings=settings,
            sweep=sweep,
            tuning=len(task.tune_cases),
            plot="impressions",
            ranx_metrics=["ndcg@5", "ndcg@10"],
        )


def _impressions_run(
    config: EvaluationConfig,
    bench: Workbench,
    task: ImpressionTask,
    method: str,
    cases: Sequence[ImpressionCase],
    overrides: dict[str, Any],
) -> Run:
    replay = None
    if method == "related":
        replay = EngineReplay(
            bench.settings_with(overrides), task.events, config.out / "replay-home", bench.embedder
        )
    try:
        return impression_run(
            method,
            cases,
            bench.corpus,
            seed=config.seed,
            events=task.events,
            replay=replay,
            tfidf=cast(TfidfScorer, bench.scorer("tfidf", config.seed))
            if method == "tfidf"
            else None,
        )
    finally:
        if replay is not None:
            replay.close()


def _timed(
    config: EvaluationConfig,
    bench: Workbench,
    task: ImpressionTask,
    method: str,
    overrides: dict[str, Any],
) -> tuple[Run, float]:
    started = time.perf_counter()
    run = _impressions_run(config, bench, task, method, task.cases, overrides)
    return run, time.perf_counter() - started


def _sweep(config: EvaluationConfig, bench: Workbench, task: ImpressionTask) -> SweepResult:
    if not task.tune_cases:
        raise ValueError("the sweep has no tuning impressions")

    def objective(overrides: dict[str, float]) -> float:
        run = _impressions_run(config, bench, task, "related", task.tune_cases, overrides)
        return float(score_impressions(run, task.tune_cases)["auc"].mean())

    configs = sweep_configs(
        config.sweep or "random",
        config.trials,
        config.seed,
        fixed=config.settings_overrides,
        exclude=_NOT_SWEPT,
        space=COREAD_SPACE,
    )
    return run_sweep(
        configs,
        objective,
        kind=config.sweep or "random",
        objective_name="auc",
        progress=config.progress,
    )
