"""Figures of a run: accuracy per query (checked against ranx) and beyond-accuracy measures.

Accuracy, for a query with ranked list ``d_1 .. d_n``, grades ``rel(d)`` (0 = not relevant) and
``R`` relevant documents in all:

- ``precision@k = |{i <= k : rel(d_i) > 0}| / k``
- ``recall@k    = |{i <= k : rel(d_i) > 0}| / R``
- ``hit_rate@k  = 1`` if some ``rel(d_i) > 0`` with ``i <= k``, else 0
- ``ndcg@k      = DCG@k / IDCG@k`` with ``DCG@k = sum_{i<=k} rel(d_i) / log2(i + 1)`` and
  ``IDCG@k`` the DCG of the ideal ordering of the judged grades (Järvelin & Kekäläinen, 2002)
- ``mrr         = 1 / min{i : rel(d_i) > 0}``, 0 when no relevant document is listed

These are the definitions of ranx (Bassani, ECIR 2022) and trec_eval; the tests check agreement
with ranx to 1e-9. Queries without any relevant document are left out (as trec_eval does), and
a query missing from the run counts as an empty list (all zeros).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from evaluation.runs import Qrels, Run

__all__ = [
    "accuracy",
    "accuracy_names",
    "catalogue_coverage",
    "impression_auc",
    "impression_mrr",
    "impression_ndcg",
    "intra_list_diversity",
    "judged_queries",
    "mean_popularity_percentile",
    "median_time_gap_days",
    "story_duplicate_share",
]


def accuracy_names(ks: Sequence[int]) -> list[str]:
    """The accuracy figure names for cut-offs ``ks``, in report order."""
    names = [f"{m}@{k}" for m in ("ndcg", "precision", "recall", "hit_rate") for k in ks]
    return [*names, "mrr"]


def judged_queries(qrels: Qrels) -> list[str]:
    """Query ids with at least one relevant document, sorted: the queries that are scored."""
    return sorted(q for q, docs in qrels.items() if any(r > 0 for r in docs.values()))


def accuracy(run: Run, qrels: Qrels, ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-query accuracy figures, aligned with :func:`judged_queries` of ``qrels``.

    Raises:
        ValueError: a cut-off below 1.
    """
    for k in ks:
        if k < 1:
            raise ValueError(f"cut-off k must be at least 1, got {k}")
    queries = judged_queries(qrels)
    out = {name: np.zeros(len(queries)) for name in accuracy_names(ks)}
    top = max(ks, default=1)
    discounts = 1.0 / np.log2(np.arange(2, top + 2))
    for qi, qid in enumerate(queries):
        judged = qrels[qid]
        grades = sorted((r for r in judged.values() if r > 0), reverse=True)
        relevant = len(grades)
        listed = [judged.get(doc, 0) for doc, _ in run.get(qid, [])]
        gains = np.array([max(g, 0) for g in listed[:top]], dtype=np.float64)
        hits = gains > 0
        ideal = np.array(grades[:top], dtype=np.float64)
        for k in ks:
            found = int(hits[:k].sum())
            dcg = float((gains[:k] * discounts[: len(gains[:k])]).sum())
            idcg = float((ideal[:k] * discounts[: len(ideal[:k])]).sum())
            out[f"ndcg@{k}"][qi] = dcg / idcg
            out[f"precision@{k}"][qi] = found / k
            out[f"recall@{k}"][qi] = found / relevant
            out[f"hit_rate@{k}"][qi] = 1.0 if found else 0.0
        first = next((i for i, g in enumerate(listed, start=1) if g > 0), None)
        out["mrr"][qi] = 1.0 / first if first else 0.0
    return out


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


# --- MIND impressions -------------------------------------------------------------------------
# The definitions of the MIND evaluation script (Wu et al., ACL 2020), one impression at a time:
# labels are 1 for clicked and 0 for shown-but-skipped candidates.


def _ranked_labels(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    return labels[order]


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
    ranked = _ranked_labels(labels, scores).astype(np.float64)
    clicked = ranked.sum()
    if clicked == 0:
        raise ValueError("MRR needs at least one clicked candidate")
    return float((ranked / np.arange(1, ranked.size + 1)).sum() / clicked)


def impression_ndcg(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """MIND's nDCG@k: gains ``2**label - 1``, discount ``log2(rank + 1)``."""
    ranked = _ranked_labels(labels, scores)[:k].astype(np.float64)
    ideal = np.sort(labels)[::-1][:k].astype(np.float64)
    discounts = np.log2(np.arange(2, ranked.size + 2))
    best = float(((2**ideal - 1) / discounts[: ideal.size]).sum())
    if best == 0:
        raise ValueError("nDCG needs at least one clicked candidate")
    return float(((2**ranked - 1) / discounts).sum()) / best
