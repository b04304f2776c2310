"""newsrec's own lists, made by the real :class:`~recommender.serving.engine.Engine` of the home.

*More like this* is asked for alone (``k_related=0``) and *Related* alone (``k_more=0``), so each
list ranks the whole candidate pool rather than what the other list left over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from tqdm import tqdm

from evaluation.candidates import CandidateRule
from evaluation.corpus import Corpus
from evaluation.runs import Run
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.requests import MAX_K, ListRequest

__all__ = ["ListName", "engine_run"]

ListName = Literal["more_like_this", "related"]


def engine_run(
    engine: Engine,
    corpus: Corpus,
    source_ids: Sequence[str],
    k: int,
    which: ListName,
    *,
    rule: CandidateRule | None = None,
    weights: Weights | None = None,
    progress: bool = False,
) -> Run:
    """One engine list per source, cut to ``k`` after the candidate rule is applied.

    With a time rule the engine is asked for ``MAX_K`` items and the disallowed ones are dropped,
    so a list can come out shorter than ``k`` when few earlier or nearby articles are similar.

    Raises:
        ValueError: ``k`` above ``MAX_K``.
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K} for engine lists, got {k}")
    rule = rule or CandidateRule()
    asked = MAX_K if rule.restricts else k
    request = (
        ListRequest(k_more=asked, k_related=0, weights=weights)
        if which == "more_like_this"
        else ListRequest(k_more=0, k_related=asked, weights=weights)
    )
    run: Run = {}
    sources: Iterable[str] = tqdm(
        source_ids, desc=which, unit=" lists", disable=not progress, leave=False
    )
    for source in sources:
        lists = engine.lists_for(source, request)
        items = lists.more_like_this if which == "more_like_this" else lists.related
        source_ts = corpus.published_ts[corpus.row_of[source]]
        kept = [
            (item.article.id, item.score)
            for item in items
            if rule.allows(corpus.published_ts[corpus.row_of[item.article.id]], source_ts)
        ]
        run[source] = kept[:k]
    return run
