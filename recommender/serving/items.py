"""Chosen entries dressed as list items: the article's card (or whole record when explained),
its score as the sum of its rounded parts, and the words it shares with the source."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

import numpy as np

from index import ArticleRecord, Catalogue
from recommender.ranking.lists import Entry
from recommender.serving.answers import ListItem
from recommender.signals.terms import Terms, TermStatistics, shared_terms, terms_of

__all__ = ["Explainer"]

_TERM_SAMPLE = 5_000  # articles whose words give the document frequencies of explanations


class Explainer:
    """Makes list items from entries; holds the word statistics explanations need."""

    def __init__(self, catalogue: Catalogue) -> None:
        """Read articles from ``catalogue`` when a list is explained."""
        self._catalogue = catalogue
        self._terms: TermStatistics | None = None
        self._lock = threading.Lock()

    def items(
        self,
        entries: list[Entry],
        cards: Mapping[int, ArticleRecord],
        source_terms: Terms | None,
        explain: bool,
        live: np.ndarray,
    ) -> list[ListItem]:
        """The list items of ``entries``; each score is the sum of its parts as shown."""
        if explain:
            records = {r.doc_id: r for r in self._catalogue.get_by_doc_ids(e.doc for e in entries)}
        else:
            records = {e.doc: cards[e.doc] for e in entries if e.doc in cards}
        statistics = self._statistics(live) if source_terms is not None else None
        items: list[ListItem] = []
        for entry in entries:
            record = records.get(entry.doc)
            if record is None:  # unpublished between search and fetch
                continue
            # Parts are rounded as shown and the score is their sum, so they add up exactly.
            parts = {name: round(value, 6) + 0.0 for name, value in entry.parts.items()}
            shared: tuple[str, ...] = ()
            if source_terms is not None and statistics is not None:
                shared = shared_terms(source_terms, terms_of(record.title, record.body), statistics)
            items.append(
                ListItem(
                    record,
                    math.fsum(parts.values()),
                    entry.similarity,
                    parts if explain else None,
                    shared,
                    entry.pinned,
                )
            )
        return items

    def source_terms(
        self, source: ArticleRecord | None, text: tuple[str, str] | None, docs: set[int]
    ) -> Terms:
        """The terms of what the lists are for: an article, a draft, or a set of articles."""
        if source is not None:
            return terms_of(source.title, source.body)
        if text is not None:
            return terms_of(*text)
        records = self._catalogue.get_by_doc_ids(sorted(docs))
        return terms_of(". ".join(r.title for r in records), "\n".join(r.body for r in records))

    def _statistics(self, live: np.ndarray) -> TermStatistics:
        # Document frequencies from an even sample of the catalogue: enough for stable IDF,
        # built once, on the first explained request.
        with self._lock:
            if self._terms is None:
                published = np.flatnonzero(live)
                sample = published[:: max(1, len(published) // _TERM_SAMPLE)][:_TERM_SAMPLE]
                records = self._catalogue.get_by_doc_ids(sample.tolist())
                self._terms = TermStatistics(terms_of(r.title, r.body) for r in records)
            return self._terms
