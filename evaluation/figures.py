"""All figures of one method's run: mean accuracy per cut-off and the beyond-accuracy measures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.corpus import Corpus
from evaluation.duplicates import StoryJudge, one_per_story
from evaluation.metrics import (
    accuracy,
    catalogue_coverage,
    intra_list_diversity,
    mean_popularity_percentile,
    median_time_gap_days,
    ranx_figures,
    story_duplicate_share,
    top_read_share,
)
from evaluation.runs import Qrels, Run

__all__ = ["RunFigures", "run_figures"]


@dataclass(frozen=True)
class RunFigures:
    """Per-query accuracy (for significance tests) and every figure as a flat mapping."""

    per_query: dict[str, np.ndarray]
    figures: dict[str, float | None]


def run_figures(
    run: Run,
    qrels: Qrels,
    ks: Sequence[int],
    corpus: Corpus,
    judge: StoryJudge | None,
) -> RunFigures:
    """Figures of ``run`` judged by ``qrels``; beyond-accuracy ones need the ``corpus``.

    Names: ``ndcg@k``, ``precision@k``, ``recall@k``, ``hit_rate@k``, ``mrr``, and per ``k``
    ``coverage@k``, ``diversity@k``, ``time_gap_days@k``, ``story_duplicates@k``,
    ``popularity_percentile@k``, ``top_read_share@k`` (lists holding one of the site's 10
    most-read articles); plus ``queries`` (judged sources) and ``short_lists@k``. With a
    ``judge``, also ``one_story_ndcg@k``: nDCG of the lists held to one item per story
    (:func:`~evaluation.duplicates.one_per_story`), per query as well, for significance tests.
    """
    per_query = accuracy(run, qrels, ks)
    if judge is not None:
        held = ranx_figures(one_per_story(run, judge), qrels, [f"ndcg@{k}" for k in ks])
        per_query.update({f"one_story_{name}": values for name, values in held.items()})
    figures: dict[str, float | None] = {
        name: float(values.mean()) if values.size else None for name, values in per_query.items()
    }
    figures["queries"] = float(len(next(iter(per_query.values()))))
    for k in ks:
        figures[f"coverage@{k}"] = catalogue_coverage(run, k, len(corpus))
        figures[f"diversity@{k}"] = intra_list_diversity(run, k, corpus.vectors, corpus.row_of)
        figures[f"time_gap_days@{k}"] = median_time_gap_days(
            run, k, corpus.published_ts, corpus.row_of
        )
        figures[f"story_duplicates@{k}"] = (
            story_duplicate_share(run, k, judge) if judge is not None else None
        )
        figures[f"popularity_percentile@{k}"] = mean_popularity_percentile(
            run, k, corpus.popularity, corpus.row_of
        )
        figures[f"top_read_share@{k}"] = top_read_share(run, k, corpus.popularity, corpus.ids)
        figures[f"short_lists@{k}"] = float(
            sum(1 for items in run.values() if len(items) < k)
        ) / max(len(run), 1)
    return RunFigures(per_query, figures)
