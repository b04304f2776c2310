"""Which articles a list considers: its candidates, with their similarity parts.

A stored article's candidates are its row of the neighbour table
(:mod:`recommender.signals.neighbourhood`) plus the articles changed since the table was
computed, scored exactly, so a list needs no index search. Drafts, readers' centroids and
articles changed since are searched in the index instead, widened until enough pass the
request's filters. For Related, the articles most co-read with the source and the most popular
articles join them; Related's gate (:mod:`recommender.ranking.gate`) later decides which of
all these are related at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.serving.requests import ListRequest
from recommender.serving.state import ServingState
from recommender.settings import Settings
from recommender.signals.lexical import TermVector
from recommender.signals.recency import SECONDS_PER_DAY

__all__ = ["Candidates", "admissible", "gather", "outside"]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate doc ids with the two halves of their similarity to the query."""

    doc_ids: np.ndarray
    cosine: np.ndarray  # float32, of augmented vectors
    lexical: np.ndarray  # float32
    query: np.ndarray  # the query's augmented vector

    def plus(self, docs: np.ndarray, cosine: np.ndarray, lexical: np.ndarray) -> Candidates:
        """These candidates followed by ``docs`` with their similarity parts."""
        return Candidates(
            np.concatenate([self.doc_ids, docs]),
            np.concatenate([self.cosine, cosine]).astype(np.float32),
            np.concatenate([self.lexical, lexical]).astype(np.float32),
            self.query,
        )


def outside(docs: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``~np.isin(docs, ids)`` for the small arrays of a list request, at a fraction of the
    cost (isin sets up a general algorithm for every call)."""
    if len(ids) <= 8:
        mask = np.ones(len(docs), dtype=bool)
        for doc in ids.tolist():
            mask &= docs != doc
        return mask
    ordered = np.sort(ids)
    at = np.minimum(np.searchsorted(ordered, docs), len(ordered) - 1)
    return np.asarray(ordered[at] != docs)


def admissible(
    state: ServingState, docs: np.ndarray, request: ListRequest, now: float
) -> np.ndarray:
    """Which of ``docs`` are published and pass the request's section, language and age."""
    columns = state.columns
    mask = columns.live[docs].copy()
    if request.sections:
        codes = [c for c in (columns.code(s) for s in request.sections) if c >= 0]
        mask &= np.isin(columns.section[docs], codes)
    if request.exclude_sections:
        codes = [c for c in (columns.code(s) for s in request.exclude_sections) if c >= 0]
        mask &= ~np.isin(columns.section[docs], codes)
    if request.language:
        code = columns.code(request.language)
        mask &= (columns.language[docs] == code) & (code >= 0)
    if request.max_age_days is not None:
        oldest = now - request.max_age_days * SECONDS_PER_DAY
        mask &= columns.published_ts[docs] >= oldest
    if request.filters_metadata:
        mask &= columns.facets.admits(docs, request)
    return np.asarray(mask, dtype=bool)


def gather(
    state: ServingState,
    settings: Settings,
    query: np.ndarray | int,
    words: TermVector,
    excluded: set[int],
    request: ListRequest,
    now: float,
    coread: dict[int, float],
) -> Candidates:
    """The candidates of one list request that pass its filters, with their similarity parts.

    ``query`` is a stored article's doc id or a vector (a draft, a reader's centroid);
    ``coread`` maps the docs read by the source's readers to their co-read weight.
    """
    hoods = state.hoods
    wanted = request.k_more + request.k_related
    excluded_ids = np.array(sorted(excluded | state.live_docs(request.exclude_ids)), dtype=np.int64)
    found = None
    if isinstance(query, int) and (row := hoods.row(query)) is not None:
        found = _from_table(state, settings, query, row, words, excluded_ids, request, now)
        if len(found.doc_ids) < 4 * wanted:
            found = None  # filters left too few: search the index as deep as needed
    if found is None:
        found = _searched(state, settings, query, words, excluded_ids, request, now)
    if request.k_related and coread and settings.coread_candidates:
        found = _with_coread(state, settings, found, coread, words, excluded_ids, request, now)
    pool = state.readership.pool
    if not (request.k_related and len(pool.docs)) or pool.words is None:
        return found
    # What many read is a candidate for Related when it is close enough to pass the gate
    # although it is no close neighbour: the day's big story on the source's subject.
    keep = outside(pool.docs, found.doc_ids) & outside(pool.docs, excluded_ids)
    keep &= admissible(state, pool.docs, request, now)
    if not keep.any():
        return found
    return found.plus(
        pool.docs[keep],
        pool.vectors[keep] @ found.query,
        state.columns.lexical.score(words, pool.words)[keep],
    )


def _from_table(
    state: ServingState,
    settings: Settings,
    doc: int,
    row: int,
    words: TermVector,
    excluded_ids: np.ndarray,
    request: ListRequest,
    now: float,
) -> Candidates:
    index, hoods, columns = state.index, state.hoods, state.columns
    assert index is not None and hoods.table is not None  # checked by the caller
    table = hoods.table
    docs = table.docs[row].astype(np.int64)
    valid = docs >= 0
    docs = docs[valid]
    keep = ~hoods.stale(docs) & admissible(state, docs, request, now)
    keep &= outside(docs, excluded_ids)
    query = hoods.row_augmented(doc, row, index, columns.live)
    cosine = table.cosine[row][valid][keep].astype(np.float32)
    lexical = table.lexical[row][valid][keep].astype(np.float32)
    docs = docs[keep]
    fresh, fresh_aug = hoods.fresh()
    if len(fresh):
        fresh_cosine = fresh_aug @ query
        ok = admissible(state, fresh, request, now) & outside(fresh, excluded_ids)
        ok &= fresh != doc
        fresh, fresh_cosine = fresh[ok], fresh_cosine[ok]
        best = np.arange(len(fresh))
        depth = hoods.shape.depth
        if len(fresh) > depth:  # many changed since the table: the best only
            best = np.argpartition(-fresh_cosine, depth - 1)[:depth]
        fresh, fresh_cosine = fresh[best], fresh_cosine[best]
        docs = np.concatenate([docs, fresh])
        cosine = np.concatenate([cosine, fresh_cosine])
        lexical = np.concatenate([lexical, columns.lexical.similarity(words, fresh)])
    return Candidates(docs, cosine.astype(np.float32), lexical.astype(np.float32), query)


def _searched(
    state: ServingState,
    settings: Settings,
    query: np.ndarray | int,
    words: TermVector,
    excluded_ids: np.ndarray,
    request: ListRequest,
    now: float,
) -> Candidates:
    index, hoods, columns = state.index, state.hoods, state.columns
    assert index is not None  # checked by the caller
    doc = query if isinstance(query, int) else None
    vector = (
        index.reconstruct(np.array([query], dtype=np.int64))[0]
        if isinstance(query, int)
        else query.astype(np.float32)
    )
    if doc is not None and (row := hoods.row(doc)) is not None:
        query_aug = hoods.row_augmented(doc, row, index, columns.live)
    else:
        query_aug = hoods.query_augmented(vector, doc, index, columns.lexical, words)
    total = len(index)
    wanted = request.k_more + request.k_related
    n = min(max(settings.candidates, 4 * (wanted + len(excluded_ids))), total)
    while True:
        ids, _ = index.search(vector[None, :], n)
        ids = ids[0][ids[0] >= 0]
        mask = admissible(state, ids, request, now) & outside(ids, excluded_ids)
        if int(mask.sum()) >= 4 * wanted or n >= total:
            break
        n = min(4 * n, total)
    ids = ids[mask]
    cosine = hoods.augmented(ids, index, columns.live) @ query_aug
    lexical = columns.lexical.similarity(words, ids)
    return Candidates(ids, cosine.astype(np.float32), lexical, query_aug)


def _with_coread(
    state: ServingState,
    settings: Settings,
    found: Candidates,
    coread: dict[int, float],
    words: TermVector,
    excluded_ids: np.ndarray,
    request: ListRequest,
    now: float,
) -> Candidates:
    """``found`` plus the articles most co-read with the source that pass the filters."""
    # What the source's readers also read is a candidate; the gate decides whether it counts.
    extra = np.array(
        sorted(coread, key=lambda d: (-coread[d], d))[: settings.coread_candidates],
        dtype=np.int64,
    )
    extra = extra[outside(extra, found.doc_ids) & outside(extra, excluded_ids)]
    extra = extra[admissible(state, extra, request, now)]
    if not len(extra):
        return found
    assert state.index is not None  # checked by the caller
    return found.plus(
        extra,
        state.hoods.augmented(extra, state.index, state.columns.live) @ found.query,
        state.columns.lexical.similarity(words, extra),
    )
