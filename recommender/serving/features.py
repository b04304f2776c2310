"""The signals of a list's candidates, gathered from the serving state for the formula.

Each signal is computed by its module in :mod:`recommender.signals`; this module reads what
they need from the serving state (publish times, reading counts, co-reads, sections and tags)
and hands :func:`recommender.ranking.scoring.score` one array per signal, by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from index import ArticleRecord
from recommender.ranking.scoring import Weights
from recommender.serving.state import ServingState
from recommender.settings import Settings
from recommender.signals.lexical import TermVector
from recommender.signals.popularity import popularity_signal
from recommender.signals.recency import recency_around, recency_from_now
from recommender.signals.section import section_match
from recommender.signals.story import story_evidence

__all__ = ["coread_of", "features", "gathered", "popularity_of", "shared_readers"]


def features(
    state: ServingState,
    settings: Settings,
    docs: np.ndarray,
    cosine: np.ndarray,
    lexical: np.ndarray,
    source: ArticleRecord | None,
    coread: dict[int, float],
    now: float,
    missing: list[str],
    weighed: Sequence[Weights],
    names: TermVector,
) -> dict[str, np.ndarray]:
    """Every signal of the formula for ``docs``, by name; names signals no candidate has in
    ``missing``.

    ``cosine`` and ``lexical`` are the candidates' similarity halves; ``source`` is the source
    article (None for a draft or a reader's reads, whose time is ``now``); ``coread`` maps docs
    to their co-read weight with the source, and ``names`` are the source's names
    (:mod:`recommender.signals.names`). ``section`` and ``story`` are measured only when
    one of the lists' ``weighed`` gives them a weight: at 0 (their defaults) the formula does
    not read them, and ``section`` costs a look at every candidate's card.
    """
    source_ts = now  # a draft or a reader's reads: what is around now
    if source is not None:
        source_ts = source.published_at.timestamp() if source.published_at else math.nan
    if not state.readership.any_reads:
        missing.append("popularity")
    signals = {
        "cosine": cosine,
        "lexical": lexical,
        "recency": _recency(state, settings, docs, source, now, missing),
        "popularity": popularity_of(state, settings, docs),
        "coread": _weights_of(docs, coread),
    }
    used = {name for weights in weighed for name, weight in weights.items() if weight > 0}
    if "section" in used:
        signals["section"] = section_match(
            source.section if source else None,
            source.tags if source else (),
            docs,
            state.columns.cards,
        )
    if "story" in used:
        signals["story"] = story_evidence(
            state.columns.names.cosine(names, docs),
            state.columns.published_ts[docs],
            source_ts,
            half_life_days=settings.story_half_life_days,
        )
    return signals


def popularity_of(state: ServingState, settings: Settings, docs: np.ndarray) -> np.ndarray:
    """The popularity of ``docs``: read from every article's, or, with the normalisation
    ``candidates``, worked out among ``docs`` themselves (a list's candidates)."""
    reads = state.readership
    if settings.popularity_normalisation == "candidates":
        return popularity_signal(
            gathered(reads.counts, docs, 0.0),
            gathered(state.columns.published_ts, docs, np.nan),
            reads.newest,
            method="percentile",
            half_life_days=settings.popularity_half_life_days,
        )
    return gathered(reads.signal, docs, 0.0)


def coread_of(state: ServingState, sources: set[int]) -> dict[int, float]:
    """Each live doc read by readers of ``sources`` and its co-read weight, the mean over the
    sources (none for a draft)."""
    columns = state.columns
    weights: dict[int, float] = {}
    for source in sources:
        article_id = columns.article_ids.get(source)
        for other, weight in state.coreads.neighbours(article_id) if article_id else []:
            doc = columns.doc_ids.get(other)
            if doc is not None:
                weights[doc] = weights.get(doc, 0.0) + weight / len(sources)
    return weights


def shared_readers(
    state: ServingState, sources: set[int], docs: np.ndarray, coread: dict[int, float]
) -> np.ndarray:
    """How many readers read a source and each of ``docs`` (the most over the sources); only
    articles co-read at all are looked up."""
    out = np.zeros(len(docs), dtype=np.int64)
    if not coread:
        return out
    ids = state.columns.article_ids
    source_ids = [a for s in sources if (a := ids.get(s)) is not None]
    for row in np.flatnonzero(np.isin(docs, np.fromiter(coread, dtype=np.int64))).tolist():
        other = ids.get(int(docs[row]))
        if other is not None and source_ids:
            out[row] = max(state.coreads.pairs(s, other) for s in source_ids)
    return out


def gathered(values: np.ndarray, docs: np.ndarray, fill: float) -> np.ndarray:
    """``values[doc]`` for each of ``docs``, ``fill`` for docs past the end of ``values``
    (added since it was computed)."""
    out = np.full(len(docs), fill, dtype=values.dtype)
    known = docs < len(values)
    out[known] = values[docs[known]]
    return out


def _weights_of(docs: np.ndarray, weights: dict[int, float]) -> np.ndarray:
    """``weights[doc]`` for each of ``docs`` (0 for those without one), as float32."""
    out = np.zeros(len(docs), dtype=np.float32)
    if weights:
        keys = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float32, count=len(weights))
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
        at = np.minimum(np.searchsorted(keys, docs), len(keys) - 1)
        hit = keys[at] == docs
        out[hit] = values[at[hit]]
    return out


def _recency(
    state: ServingState,
    settings: Settings,
    docs: np.ndarray,
    source: ArticleRecord | None,
    now: float,
    missing: list[str],
) -> np.ndarray:
    published = state.columns.published_ts[docs]
    if len(docs) and not np.isfinite(published).any():
        missing.append("recency")  # no candidate has a publish time to compare
    if settings.recency_reference == "now":
        return recency_from_now(published, now, half_life_days=settings.recency_half_life_now_days)
    if source is None:
        source_ts = now  # a draft or a reader's reads: what is around now
    elif source.published_at is None:
        source_ts = float("nan")
        if "recency" not in missing:
            missing.append("recency")
    else:
        source_ts = source.published_at.timestamp()
    return recency_around(
        published,
        source_ts,
        half_life_before_days=settings.recency_half_life_before_days,
        half_life_after_days=settings.recency_half_life_after_days,
    )
