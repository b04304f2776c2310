"""More like this and Related from scored candidates: stories, the gate, diversity and pins.

Both lists are chosen together from the best candidates by each list's score
(:mod:`recommender.ranking.scoring`), grouped into stories
(:mod:`recommender.signals.stories`): each story is shown once, by its best member, never a
copy of the source, and a story in More like this is not repeated in Related. Related is
chosen only among the candidates that passed its gate (:mod:`recommender.ranking.gate`), one
item at a time by maximal marginal relevance (:mod:`recommender.ranking.diversity`), and
editors' pins take their places last (:mod:`recommender.ranking.overrides`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recommender.ranking.diversity import mmr
from recommender.ranking.gate import RelatedGate
from recommender.ranking.overrides import place_pins
from recommender.ranking.scoring import Weights, list_weights, score
from recommender.settings import Settings
from recommender.signals.stories import story_labels

__all__ = ["Entry", "Pool", "Ranked", "rank"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A chosen item before it is dressed as a list item: its doc, cosine and score parts."""

    doc: int
    similarity: float
    parts: dict[str, float]
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class Ranked:
    """Both lists, and why either is shorter than asked."""

    more: list[Entry]
    related: list[Entry]
    short: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Picked:
    more: list[int]  # rows of the scored arrays, in list order
    related: list[int]
    penalty: dict[int, float]  # the diversity penalty of each Related row


@dataclass(frozen=True, slots=True)
class Pool:
    """The candidates of one request, pinned articles first: one row each in every array."""

    docs: np.ndarray
    signals: dict[str, np.ndarray]
    content: np.ndarray  # cosine of plain embeddings with the source's: the gate's measure
    shared_readers: np.ndarray
    n_pins: int
    pinned: list[tuple[int, int]]  # (row, 1-based position) of each pin, strongest first
    vectors: np.ndarray  # the candidates' plain unit vectors, row by row
    sources: np.ndarray  # the source docs (and docs already shown): their copies never show
    source_vectors: np.ndarray  # their plain unit vectors
    title_keys: np.ndarray  # by doc
    body_keys: np.ndarray  # by doc
    apart: np.ndarray | None = None  # rows the newsroom filed apart from the source (gate.py)
    reach: np.ndarray | None = None  # each row's reach (ranking/reach.py)
    pinned_more: tuple[tuple[int, int], ...] = ()  # as ``pinned``, for More like this
    filed_with: np.ndarray | None = None  # rows filed with the source: below More's floor, kept


def _shown_above(passed: np.ndarray, more: list[int], n_pins: int) -> str:
    # The boxes never repeat an article: a related one that More like this shows is not in
    # Related, which an editor reading an empty Related box must be told.
    shown = sum(1 for row in more if row >= n_pins and passed[row])
    return f"; {shown} of those are in More like this instead" if shown else ""


def rank(
    pool: Pool,
    weights: Weights,
    gate: RelatedGate,
    settings: Settings,
    k_more: int,
    k_related: int,
) -> Ranked:
    """Choose More like this (``k_more``) and Related (``k_related``) from ``pool``.

    ``weights`` are Related's (configured or asked for); More like this is ranked by its own
    (:func:`recommender.ranking.scoring.list_weights`).
    """
    more_scores = score(
        pool.signals,
        list_weights("more_like_this", weights, story_weight=settings.story_weight),
        lexical_share=settings.lexical_weight,
    )
    related_scores = score(pool.signals, weights, lexical_share=settings.related_lexical_weight)
    passed = gate.passes(
        pool.content.astype(np.float32), pool.shared_readers, k_related, pool.apart, pool.reach
    )
    passed[: pool.n_pins] = True  # an editor's pin needs no evidence
    close = pool.content >= gate.more_floor  # More like this's floor (gate.py)
    if pool.filed_with is not None:
        # The newsroom's filing is topic evidence of its own: a boxing story's list may hold the
        # section's other sport, however far apart the words.
        close |= pool.filed_with
    close[: pool.n_pins] = True
    size = max(settings.list_pool, 2 * (k_more + k_related))
    docs = pool.docs
    while True:
        picked = _pick(
            pool,
            more_scores.total,
            related_scores.total,
            (close, passed),
            size,
            (k_more, k_related),
            settings,
        )
        if (len(picked.more) >= k_more and len(picked.related) >= k_related) or size >= len(docs):
            break
        size *= 4  # many copies among the best: look further down the candidates
    short: dict[str, str] = {}
    if len(picked.related) < k_related:
        short["related"] = (
            f"{int(passed[pool.n_pins :].sum())} of {len(docs) - pool.n_pins} candidates are "
            f"related to the source (among its {max(gate.depth, 2 * k_related)} closest and "
            f"above the catalogue's similarity floor, with the source among their "
            f"{gate.reach.depth if gate.reach else len(docs)} closest, or read by "
            f"{gate.min_readers}+ of its readers), before copies and stories are set aside"
            f"{_shown_above(passed, picked.more, pool.n_pins)}{_filed(pool)}"
        )
    if len(picked.more) < k_more:
        short["more_like_this"] = (
            f"{int(close[pool.n_pins :].sum())} of {len(docs) - pool.n_pins} candidates are "
            f"closer to the source than {gate.more_quantile:.0%} of random pairs of articles"
            f"{' or filed with it' if pool.filed_with is not None else ''}"
            if math.isfinite(gate.more_floor)
            else f"{len(docs) - pool.n_pins} candidates pass the filters"
        )
    cosine = pool.signals["cosine"]
    more = [
        Entry(int(docs[r]), float(cosine[r]), more_scores.of(r), pinned=r < pool.n_pins)
        for r in picked.more
    ]
    related = [
        Entry(
            int(docs[r]),
            float(cosine[r]),
            {**related_scores.of(r), "diversity": 0.0 - picked.penalty.get(r, 0.0)},
            pinned=r < pool.n_pins,
        )
        for r in picked.related
    ]
    return Ranked(more, related, short)


def _filed(pool: Pool) -> str:
    """The words of the short-list reason for the section rule, when it applied."""
    if pool.apart is None or not pool.apart.any():
        return ""
    return (
        f"; {int(pool.apart.sum())} close ones are left out: filed in another section, with no"
        " shared tag"
    )


def _pick(
    pool: Pool,
    more_score: np.ndarray,
    relevance: np.ndarray,
    admitted: tuple[np.ndarray, np.ndarray],
    pool_size: int,
    sizes: tuple[int, int],
    settings: Settings,
) -> _Picked:
    """Choose both lists among the best ``pool_size`` candidates by each score: More like this
    among the rows above its floor, Related among those that passed its gate (``admitted``);
    ``sizes`` are both lists' lengths."""
    close, passed = admitted
    k_more, k_related = sizes
    docs, n_pins = pool.docs, pool.n_pins
    candidate_rows = np.arange(n_pins, len(docs))
    more_rows = candidate_rows[close[n_pins:]]
    order = np.argsort(-more_score[more_rows], kind="stable")
    by_similarity = more_rows[order][:pool_size]
    related_rows = candidate_rows[passed[n_pins:]]
    order = np.argsort(-relevance[related_rows], kind="stable")
    by_relevance = related_rows[order][:pool_size]
    in_pool = np.zeros(len(docs), dtype=bool)
    in_pool[:n_pins] = True
    in_pool[by_similarity] = True
    in_pool[by_relevance] = True
    rows = np.flatnonzero(in_pool)
    sources = pool.sources
    # The sources go first, so a story holding a source is labelled below len(sources).
    members = np.concatenate([sources, docs[rows]])
    # One product serves both the story grouping and MMR's penalties.
    member_vectors = np.concatenate([pool.source_vectors, pool.vectors[rows]])
    cosine = member_vectors @ member_vectors.T
    labels = story_labels(
        cosine,
        pool.title_keys[members],
        settings.story_threshold,
        body_keys=pool.body_keys[members],
    )
    # Each row's story and its place among the members (-1 outside the pool).
    story = np.full(len(docs), -1, dtype=np.int64)
    story[rows] = labels[len(sources) :]
    member_of = np.full(len(docs), -1, dtype=np.int64)
    member_of[rows] = np.arange(len(sources), len(members))
    claimed = set(story[:n_pins].tolist())
    claimed.update(range(len(sources)))  # copies of the source are never shown

    more: list[int] = []
    for row, label in zip(by_similarity.tolist(), story[by_similarity].tolist(), strict=True):
        if len(more) >= k_more:
            break
        if label not in claimed:
            more.append(row)
            claimed.add(label)

    # Each unclaimed story's most relevant row, in relevance order.
    open_rows = by_relevance[[label not in claimed for label in story[by_relevance].tolist()]]
    _, first = np.unique(story[open_rows], return_index=True)
    eligible = open_rows[np.sort(first)]
    at = member_of[eligible]
    chosen = mmr(relevance[eligible], cosine[np.ix_(at, at)], k_related, settings.mmr_lambda)
    ranked = eligible[chosen.order].tolist()
    penalty = dict(zip(ranked, chosen.penalty.tolist(), strict=True))
    more = place_pins(more, pool.pinned_more, k_more)
    return _Picked(more, place_pins(ranked, pool.pinned, k_related), penalty)
