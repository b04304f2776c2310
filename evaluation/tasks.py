"""What a list protocol hands to the runner: articles to ingest, sources, judgements, folds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation.candidates import CandidateRule
from evaluation.datasets import EvalArticle
from evaluation.reading import EventLog
from evaluation.runs import Qrels

__all__ = ["ListTask"]


@dataclass(frozen=True)
class ListTask:
    """One related-list evaluation: each source article gets a list, judged by ``qrels``.

    Attributes:
        protocol: the protocol's registered name.
        articles: the candidates, as ingested into the evaluation home (labels stripped).
        qrels: judgements of the reported sources (query id = source article id).
        tune_qrels: judgements of the sources a sweep may tune on (disjoint from ``qrels``).
        rule: candidate restriction around each source's publish time.
        popularity: static counts per article handed to the engine with the articles (none
            when ``events`` are given: the engine then counts the events itself).
        events: the reading log the engine may see (never the judged readers' reads), recorded
            in the evaluation home as ``newsrec events`` records it; its read counts are what
            the most-popular baseline ranks.
        notes: protocol figures for the report (sizes, skipped rows, how folds were made).
    """

    protocol: str
    articles: Sequence[EvalArticle]
    qrels: Qrels
    tune_qrels: Qrels
    rule: CandidateRule = field(default_factory=CandidateRule)
    popularity: dict[str, float] = field(default_factory=dict)
    events: EventLog | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        """The reported sources: those with at least one relevant candidate, sorted."""
        return sorted(q for q, docs in self.qrels.items() if any(r > 0 for r in docs.values()))

    @property
    def tune_sources(self) -> list[str]:
        """The tuning sources, sorted."""
        return sorted(q for q, docs in self.tune_qrels.items() if any(r > 0 for r in docs.values()))
