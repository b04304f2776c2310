"""Figures of a run: accuracy per query (computed by ranx) and beyond-accuracy measures.

Accuracy comes from ranx (Bassani, ECIR 2022), whose definitions are trec_eval's. For a query
with ranked list ``d_1 .. d_n``, grades ``rel(d)`` (0 = not relevant) and ``R`` relevant
documents in all:

- ``precision@k = |{i <= k : rel(d_i) > 0}| / k``
- ``recall@k    = |{i <= k : rel(d_i) > 0}| / R``
- ``hit_rate@k  = 1`` if some ``rel(d_i) > 0`` with ``i <= k``, else 0
- ``ndcg@k      = DCG@k / IDCG@k`` with ``DCG@k = sum_{i<=k} rel(d_i) / log2(i + 1)`` and
  ``IDCG@k`` the DCG of the ideal ordering of the judged grades (Järvelin & Kekäläinen, 2002)
- ``mrr         = 1 / min{i : rel(d_i) > 0}``, 0 when no relevant document is listed

Queries without any relevant document are left out (as trec_eval does), and a query missing
from the run counts as an empty list (all zeros). Runs must hold strictly decreasing scores
(:func:`evaluation.runs.ranked`), so ranx reads each list in the order it was served.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from ranx import Qrels as RanxQrels
from ranx import Run as RanxRun
from ranx import evaluate as ranx_evaluate

from evaluation.runs import Qrels, Run, check_ranked

__all__ = [
    "accuracy",
    "accuracy_names",
    "catalogue_coverage",
    "impression_auc",
    "impression_mrr",
    "intra_list_diversity",
    "judged_queries",
    "mean_popularity_percentile",
    "median_time_gap_days",
    "ranx_figures",
    "story_duplicate_share",
    "top_read_share",
]


def accuracy_names(ks: Sequence[int]) -> list[str]:
    """The accuracy figure names for cut-offs ``ks``, in report order (ranx's metric names)."""
    names = [f"{m}@{k}" for m in ("ndcg", "precision", "recall", "hit_rate") for k in ks]
    return [*names, "mrr"]


def judged_queries(qrels: Qrels) -> list[str]:
    """Query ids with at least one relevant document, sorted: the queries that are scored."""
    return sorted(q for q, docs in qrels.items() if any(r > 0 for r in docs.values()))


def ranx_figures(run: Run, qrels: Qrels, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-query values of ranx metrics ``names``, aligned with :func:`judged_queries`.

    Raises:
        ValueError: a list whose scores do not strictly decrease.
    """
    check_ranked(run)
    queries = judged_queries(qrels)
    listed = {q: dict(run[q]) for q in queries if run.get(q)}
    if not listed:  # ranx cannot hold a run of empty lists; every figure is 0
        return {name: np.zeros(len(queries)) for name in names}
    judged = RanxQrels.from_dict({q: dict(qrels[q]) for q in queries})
    lists = RanxRun.from_dict(listed)
    values = ranx_evaluate(judged, lists, list(names), return_mean=False, make_comparable=True)
    if len(names) == 1:  # ranx returns the bare array for a single metric
        values = {names[0]: values}
    position = {q: i for i, q in enumerate(judged.keys())}
    order = np.array([position[q] for q in queries], dtype=np.int64)
    return {name: np.asarray(values[name], dtype=np.float64)[order] for name in names}


def accuracy(run: Run, qrels: Qrels, ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-query accuracy figures (by ranx), aligned with :func:`judged_queries` of ``qrels``.

    Raises:
        ValueError: a cut-off below 1, or a run whose scores do not strictly decrease.
    """
    for k in ks:
        if k < 1:
            raise ValueError(f"cut-off k must be at least 1, got {k}")
    return ranx_figures(run, qrels, accuracy_names(ks))


def _lists(run: Run, k: int) -> list[list[str]]:
    return [[doc for doc, _ in items[:k]] for items in run.values()]


def catalogue_coverage(run: Run, k: int, catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one top-``k`` list."""
    if catalogue_size <= 0:
        raise ValueError(f"catalogue_size must be positive, got {catalogue_size}")
    shown = {doc for items in _lists(run, k) for doc in items}
    return len(shown) / catalogue_size


def intra_list_diversity(
    run: Run, k: int, vectors: np.ndarray, row_of: dict[str, int]
) -> float | None:
    """Mean over lists (of 2+ items) of the mean pairwise cosine distance ``1 - cos``.

    Returns ``None`` when no list has two items.
    """
    values: list[float] = []
    for items in _lists(run, k):
        if len(items) < 2:
            continue
        matrix = vectors[[row_of[d] for d in items]]
        sims = matrix @ matrix.T
        n = len(items)
        mean_sim = (float(sims.sum()) - float(np.trace(sims))) / (n * (n - 1))
        values.append(1.0 - mean_sim)
    return float(np.mean(values)) if values else None


def median_time_gap_days(
    run: Run, k: int, published_ts: np.ndarray, row_of: dict[str, int]
) -> float | None:
    """Median of ``|t_item - t_source|`` in days over every listed item of a dated source.

    Query ids must be article ids. Returns ``None`` when no pair has both times.
    """
    gaps: list[float] = []
    for qid, items in run.items():
        source = row_of.get(qid)
        if source is None or not math.isfinite(published_ts[source]):
            continue
        for doc, _ in items[:k]:
            t = published_ts[row_of[doc]]
            if math.isfinite(t):
                gaps.append(abs(t - published_ts[source]) / 86_400.0)
    return float(np.median(gaps)) if gaps else None


def story_duplicate_share(run: Run, k: int, same_story: Callable[[str, str], bool]) -> float:
    """Share of top-``k`` lists holding two members of one story (0 for an empty run)."""
    lists = _lists(run, k)
    if not lists:
        return 0.0
    flagged = 0
    for items in lists:
        if any(
            same_story(items[i], items[j])
            for i in range(len(items))
            for j in range(i + 1, len(items))
        ):
            flagged += 1
    return flagged / len(lists)


def mean_popularity_percentile(
    run: Run, k: int, popularity: np.ndarray, row_of: dict[str, int]
) -> float | None:
    """Mean popularity percentile of listed items (0.5 = no bias towards popular articles).

    An article's percentile is the share of the catalogue less popular than it, ties counted
    half. Returns ``None`` when every count is equal (no popularity to be biased towards).
    """
    if popularity.size == 0 or float(popularity.min()) == float(popularity.max()):
        return None
    ordered = np.sort(popularity)
    below = np.searchsorted(ordered, popularity, side="left")
    equal = np.searchsorted(ordered, popularity, side="right") - below
    percentile = (below + 0.5 * equal) / popularity.size
    listed = [percentile[row_of[d]] for items in _lists(run, k) for d in items]
    return float(np.mean(listed)) if listed else None


def top_read_share(
    run: Run, k: int, popularity: np.ndarray, ids: Sequence[str], top: int = 10
) -> float | None:
    """Share of top-``k`` lists holding at least one of the site's ``top`` most-read articles.

    ``popularity`` holds each article's read count, aligned with ``ids``; ties at the cut are
    broken by position. Returns ``None`` without reads or without lists.
    """
    if popularity.size == 0 or not float(popularity.max()) > 0 or not run:
        return None
    order = np.argsort(-popularity, kind="stable")[:top]
    most_read = {ids[int(i)] for i in order if popularity[int(i)] > 0}
    lists = _lists(run, k)
    return sum(1 for items in lists if most_read.intersection(items)) / len(lists)


# --- MIND impressions -------------------------------------------------------------------------
# The definitions of the MIND evaluation script (Wu et al., ACL 2020) that ranx lacks, one
# impression at a time: labels are 1 for clicked and 0 for shown-but-skipped candidates. (MIND's
# nDCG with 0/1 labels is ranx's ndcg, which the impressions protocol uses.)


def impression_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a clicked item outscores a skipped one (ties 1/2).

    Raises:
        ValueError: the impression lacks a clicked or a skipped candidate.
    """
    positives, negatives = scores[labels > 0], scores[labels <= 0]
    if positives.size == 0 or negatives.size == 0:
        raise ValueError("AUC needs at least one clicked and one skipped candidate")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (positives.size * negatives.size))


def impression_mrr(labels: np.ndarray, scores: np.ndarray) -> float:
    """MIND's MRR: the mean over clicked items of 1 / their rank."""
    ranked = labels[np.argsort(-scores, kind="stable")].astype(np.float64)
    clicked = ranked.sum()
    if clicked == 0:
        raise ValueError("MRR needs at least one clicked candidate")
    return float((ranked / np.arange(1, ranked.size + 1)).sum() / clicked)
