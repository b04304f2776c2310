"""Impressions protocol: MIND's own task, ranking each impression's candidates for its reader.

Readers are split as in the co-read protocol: popularity comes from half A, and the impressions
of half B are scored. An impression is kept when the catalogue holds at least one of the
reader's history articles, one clicked and one skipped candidate (a partial MIND copy lacks the
text of most ids; how many were dropped is reported). The reader's profile is the mean of their
history vectors; candidates are ranked by each method's score and judged per impression by AUC,
MRR, nDCG@5 and nDCG@10 (the MIND paper's definitions), then averaged.

Methods: ``random``; ``most_popular``; ``tfidf`` (cosine to the mean TF-IDF of the history);
``embedding`` (cosine to the profile, which is also what *More like this* ranks by); and
``related``, newsrec's formula of :mod:`recommender.ranking.scoring` with the profile as the source
(MIND has no publish times, so recency contributes nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.preprocessing import normalize

from evaluation.baselines import TfidfScorer
from evaluation.corpus import Corpus
from evaluation.datasets import Dataset, DatasetError
from evaluation.metrics import impression_auc, impression_mrr, impression_ndcg
from evaluation.protocols.coread import reader_sets
from evaluation.runs import Qrels, Run
from evaluation.splits import hash_unit, in_first_part, seeded_sample
from evaluation.tasks import ListTask
from recommender.ranking.scoring import Weights, blend
from recommender.settings import Settings
from recommender.signals.popularity import log_popularity, popularity_reference

__all__ = [
    "IMPRESSION_FIGURES",
    "IMPRESSION_METHODS",
    "ImpressionCase",
    "ImpressionTask",
    "impression_qrels",
    "impression_run",
    "impressions_task",
    "score_impressions",
]

IMPRESSION_METHODS = ("random", "most_popular", "tfidf", "embedding", "related")
IMPRESSION_FIGURES = ("auc", "mrr", "ndcg@5", "ndcg@10")
_HALF_SALT = "reader-half"  # the same halves as the co-read protocol
_TUNE_SALT = "reader-tune"


@dataclass(frozen=True, slots=True)
class ImpressionCase:
    """One kept impression: its reader's catalogue history and its judged candidates."""

    impression_id: str
    user: str
    history: tuple[str, ...]
    candidates: tuple[str, ...]
    labels: tuple[int, ...]


@dataclass(frozen=True)
class ImpressionTask:
    """Impressions to score, the articles to ingest and the popularity the engine may see."""

    cases: list[ImpressionCase]
    tune_cases: list[ImpressionCase]
    list_task: ListTask
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
                    history,
                    tuple(c for c, _ in shown),
                    tuple(label for _, label in shown),
                )
            )
    return cases, dict(dropped)


def _case_id(case: ImpressionCase) -> str:
    return case.impression_id


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
    readers = reader_sets(dataset)
    users = {i.user for i in dataset.impressions}
    half_a = {u for u in users if in_first_part(u, seed, _HALF_SALT)}
    half_b = users - half_a
    popularity: dict[str, float] = defaultdict(float)
    for user in half_a:
        for article in readers.get(user, ()):
            popularity[article] += 1.0
    tune_users = {u for u in half_b if tune and in_first_part(u, seed, _TUNE_SALT)}
    cases, dropped = _cases(dataset, half_b - tune_users)
    cases = seeded_sample(cases, limit, seed, _case_id)
    tune_cases, _ = _cases(dataset, tune_users)
    if not cases:
        raise DatasetError(
            "no impression of the judged readers has a history article, a clicked and a "
            "skipped candidate in the catalogue"
        )
    notes: dict[str, Any] = {
        "impressions_total": len(dataset.impressions),
        "impressions_scored": len(cases),
        "impressions_tuning": len(tune_cases),
        "impressions_dropped": dropped,
        "readers_half_a_popularity": len(half_a),
        "candidates_per_impression": float(np.mean([len(c.candidates) for c in cases])),
    }
    list_task = ListTask(
        protocol="impressions",
        articles=dataset.articles,
        qrels={},
        tune_qrels={},
        popularity=dict(popularity),
        notes=notes,
    )
    return ImpressionTask(cases, tune_cases, list_task, notes)


def impression_run(
    method: str,
    cases: Sequence[ImpressionCase],
    corpus: Corpus,
    settings: Settings,
    *,
    seed: int,
    weights: Weights | None = None,
    tfidf: TfidfScorer | None = None,
) -> Run:
    """Every candidate of every impression with ``method``'s score, best first.

    Raises:
        ValueError: an unknown method.
    """
    if method not in IMPRESSION_METHODS:
        raise ValueError(f"unknown impressions method {method!r}; expected {IMPRESSION_METHODS}")
    reference = popularity_reference(corpus.popularity)
    chosen = weights or Weights.from_settings(settings)
    if method == "tfidf" and tfidf is None:
        tfidf = TfidfScorer(corpus.texts)
    run: Run = {}
    for case in cases:
        rows = corpus.rows(list(case.candidates))
        history = corpus.rows(list(case.history))
        if method == "random":
            rng = np.random.default_rng([seed, int(case.impression_id)])
            scores = rng.random(len(rows))
        elif method == "most_popular":
            scores = corpus.popularity[rows].astype(np.float64)
        elif method == "tfidf":
            assert tfidf is not None  # built above
            profile = normalize(np.asarray(tfidf.matrix[history].mean(axis=0)))
            scores = np.asarray(tfidf.matrix[rows] @ profile.T).ravel()
        else:
            profile = corpus.vectors[history].mean(axis=0)
            profile /= max(float(np.linalg.norm(profile)), 1e-12)
            similarity = corpus.vectors[rows] @ profile
            if method == "embedding":
                scores = similarity.astype(np.float64)
            else:
                popularity = log_popularity(corpus.popularity[rows], reference)
                recency = np.zeros(len(rows), dtype=np.float32)  # MIND news carry no dates
                scores = blend(similarity, recency, popularity, chosen).total.astype(np.float64)
        order = np.argsort(-scores, kind="stable")
        run[case.impression_id] = [(case.candidates[i], float(scores[i])) for i in order.tolist()]
    return run


def impression_qrels(cases: Sequence[ImpressionCase]) -> Qrels:
    """Clicked candidates as grade 1 and skipped ones as grade 0, per impression."""
    return {c.impression_id: dict(zip(c.candidates, c.labels, strict=True)) for c in cases}


def score_impressions(run: Run, cases: Sequence[ImpressionCase]) -> dict[str, np.ndarray]:
    """Per-impression AUC, MRR, nDCG@5 and nDCG@10, aligned with ``cases``.

    The run's scores decide the order; a candidate missing from the run scores lowest.
    """
    out = {name: np.zeros(len(cases)) for name in IMPRESSION_FIGURES}
    for i, case in enumerate(cases):
        given: Mapping[str, float] = dict(run.get(case.impression_id, []))
        # Rank positions rather than raw scores, so ties keep the run's own order.
        rank = {doc: r for r, (doc, _) in enumerate(run.get(case.impression_id, []))}
        scores = np.array(
            [-rank[c] if c in given else -np.inf for c in case.candidates], dtype=np.float64
        )
        labels = np.array(case.labels)
        out["auc"][i] = impression_auc(
            labels, np.array([given.get(c, -np.inf) for c in case.candidates], dtype=np.float64)
        )
        out["mrr"][i] = impression_mrr(labels, scores)
        out["ndcg@5"][i] = impression_ndcg(labels, scores, 5)
        out["ndcg@10"][i] = impression_ndcg(labels, scores, 10)
    return out
