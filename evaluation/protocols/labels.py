"""Labels protocol: a list is good when its articles share a label with the source.

Candidates are every labelled article (labels stripped before ingest); sources are the labelled
articles of the reported split (Reuters ``TEST``), and tuning sources those of the tuning split
(Reuters ``TRAIN``). A corpus without splits is divided by a seeded hash of the article id when
a sweep needs tuning sources. Relevance is binary: at least one label in common. With a time
rule (only earlier candidates, or a window around the source), only candidates the rule allows
are judged, so no method is charged for articles it was not allowed to show.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from evaluation.candidates import CandidateRule
from evaluation.config import EvaluationConfig
from evaluation.datasets import Dataset, DatasetError, EvalArticle
from evaluation.protocols.base import Outcome
from evaluation.protocols.lists import run_list_task
from evaluation.reading import EventLog, behaviors_log, zipf_log
from evaluation.runs import Qrels
from evaluation.splits import in_first_part, seeded_sample
from evaluation.sweeps import SWEEP_SPACE
from evaluation.tasks import ListTask

__all__ = ["LabelsProtocol", "labels_task"]

_FOLD_SALT = "source-fold"


def _judgements(
    sources: Sequence[EvalArticle],
    candidates: Sequence[EvalArticle],
    rule: CandidateRule,
) -> Qrels:
    by_label: dict[str, set[int]] = defaultdict(set)
    for i, article in enumerate(candidates):
        for label in article.labels:
            by_label[label].add(i)
    times = np.array([a.published_ts for a in candidates])
    position = {a.id: i for i, a in enumerate(candidates)}
    qrels: Qrels = {}
    for source in sources:
        related: set[int] = set()
        for label in source.labels:
            related |= by_label[label]
        related.discard(position.get(source.id, -1))
        if rule.restricts:
            related = {i for i in related if rule.allows(times[i], source.published_ts)}
        if related:
            qrels[source.id] = {candidates[i].id: 1 for i in sorted(related)}
    return qrels


def _by_id(article: EvalArticle) -> str:
    return article.id


def labels_task(
    dataset: Dataset,
    *,
    split: str | None = "TEST",
    tune_split: str = "TRAIN",
    rule: CandidateRule | None = None,
    limit_sources: int | None = None,
    tune: bool = False,
    tune_limit: int | None = None,
    seed: int = 0,
    synthetic_reads: int = 0,
) -> ListTask:
    """Build the labels task of ``dataset``.

    Args:
        dataset: articles with labels (e.g. Reuters topics).
        split: the corpus split whose sources are reported; ``None`` reports every labelled
            source (the corpus's splits, if any, are then ignored).
        tune_split: the split whose sources a sweep tunes on.
        rule: candidate restriction around each source's publish time.
        limit_sources: report (and tune on) at most this many sources, a seeded sample.
        tune: also build tuning judgements (for sweeps).
        tune_limit: tune on at most this many sources, a seeded sample (sweeps rank every
            tuning source once per trial).
        seed: decides samples and, for corpora without splits, the folds.
        synthetic_reads: if above 0, the engine sees this many Zipf-distributed reads, drawn
            independently of the labels over the corpus's time span.

    Raises:
        DatasetError: no labelled article, or no source in the requested split.
    """
    rule = rule or CandidateRule()
    candidates = [a for a in dataset.articles if a.labels]
    if not candidates:
        raise DatasetError(
            f"no article carries a label in {', '.join(dataset.label_fields) or '(none)'}"
        )
    has_splits = any(a.split for a in candidates)
    wanted = split.upper() if split else None
    if wanted and has_splits:
        reported = [a for a in candidates if a.split == wanted]
        tuning = [a for a in candidates if a.split == tune_split.upper()] if tune else []
        how = f"corpus splits: report {wanted}, tune {tune_split.upper()}"
    elif tune:
        reported = [a for a in candidates if not in_first_part(a.id, seed, _FOLD_SALT)]
        tuning = [a for a in candidates if in_first_part(a.id, seed, _FOLD_SALT)]
        how = "seeded halves of the labelled articles: one tunes, the other is reported"
    else:
        reported, tuning = candidates, []
        how = "every labelled article is a source"
    if not reported:
        raise DatasetError(f"no labelled article in split {wanted!r}")
    reported = seeded_sample(reported, limit_sources, seed, _by_id)
    tuning = seeded_sample(
        tuning, min(limit_sources or len(tuning), tune_limit or len(tuning)), seed + 1, _by_id
    )
    qrels = _judgements(reported, candidates, rule)
    events = _events_for(dataset, candidates, synthetic_reads, seed)
    notes: dict[str, Any] = {
        "candidates": len(candidates),
        "sources_reported": len(qrels),
        "sources_without_relevant": len(reported) - len(qrels),
        "sources_tuning": len(tuning),
        "folds": how,
        "label_fields": list(dataset.label_fields),
        "relevance": "binary: shares at least one label with the source",
        "candidate_rule": rule.describe(),
    }
    return ListTask(
        protocol="labels",
        articles=candidates,
        qrels=qrels,
        tune_qrels=_judgements(tuning, candidates, rule),
        rule=rule,
        events=events,
        notes=notes,
    )


def _events_for(
    dataset: Dataset, candidates: Sequence[EvalArticle], synthetic_reads: int, seed: int
) -> EventLog | None:
    if synthetic_reads > 0:
        return _synthetic(candidates, synthetic_reads, seed)
    if dataset.behaviors:  # labels judge, so every reader's reads may be seen
        readers = {impression.user for impression in dataset.impressions}
        return behaviors_log(dataset, readers, about="every reader's reads (behaviors.tsv)")
    return None


def _synthetic(candidates: Sequence[EvalArticle], reads: int, seed: int) -> EventLog:
    times = [a.published_ts for a in candidates if not math.isnan(a.published_ts)]
    start = datetime.fromtimestamp(min(times), UTC) if times else datetime(2020, 1, 1, tzinfo=UTC)
    days = max((max(times) - min(times)) / 86_400.0, 1.0) if times else 30.0
    ids = [a.id for a in candidates]
    return zipf_log(ids, seed=seed, reads=reads, start=start, days=days)


class LabelsProtocol:
    """Shared labels (Reuters topics, MIND categories ...) judge the lists."""

    name = "labels"

    def label_fields(self, config: EvaluationConfig) -> tuple[str, ...]:
        """The ``--labels`` fields."""
        return config.label_fields

    def run(self, config: EvaluationConfig, dataset: Dataset) -> Outcome:
        """Every method on the labelled sources of the reported split."""
        task = labels_task(
            dataset,
            split=config.split,
            rule=CandidateRule(config.before_source, config.window_days),
            limit_sources=config.limit_sources,
            tune=config.sweep is not None,
            tune_limit=config.tune_sources,
            seed=config.seed,
            synthetic_reads=config.synthetic_reads,
        )
        return run_list_task(config, task, space=SWEEP_SPACE)
