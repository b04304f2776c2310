"""What a list protocol hands to the runner: articles to ingest, sources, judgements, folds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evaluation.candidates import CandidateRule
from evaluation.datasets import EvalArticle
from evaluation.runs import Qrels

__all__ = ["ListTask"]


@dataclass(frozen=True)
class ListTask:
    """One related-list evaluation: each source article gets a list, judged by ``qrels``.

    Attributes:
        protocol: ``labels`` or ``coread``.
        articles: the candidates, as ingested into the evaluation home (labels stripped).
        qrels: judgements of the reported sources (query id = source article id).
        tune_qrels: judgements of the sources a sweep may tune on (disjoint from ``qrels``).
        rule: candidate restriction around each source's publish time.
        popularity: counts of reads the engine may see (never from the judged readers);
            handed to it as a static count per article unless ``reads`` are given, and ranked
            by the most-popular baseline.
        reads: reads the engine may see, ``{reader: {article: first read}}`` in reading order;
            handed to it as click events naming the reader (popularity and co-reading).
        notes: protocol figures for the report (sizes, skipped rows, how folds were made).
    """

    protocol: str
    articles: Sequence[EvalArticle]
    qrels: Qrels
    tune_qrels: Qrels
    rule: CandidateRule = field(default_factory=CandidateRule)
    popularity: dict[str, float] = field(default_factory=dict)
    reads: dict[str, dict[str, datetime]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        """The reported sources: those with at least one relevant candidate, sorted."""
        return sorted(q for q, docs in self.qrels.items() if any(r > 0 for r in docs.values()))

    @property
    def tune_sources(self) -> list[str]:
        """The tuning sources, sorted."""
        return sorted(q for q, docs in self.tune_qrels.items() if any(r > 0 for r in docs.values()))
