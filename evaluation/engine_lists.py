"""newsrec's own lists, asked of the home's :class:`~recommender.serving.engine.Engine` exactly as
``GET /articles/{id}/related`` asks for them.

Each list is asked for alone (the other lengths 0), so it ranks the whole candidate pool rather
than what another list left over; that is the answer of ``?k_more=0&k_related=10&k_popular=0``
and so on. ``related+popular`` is what a page shows when it asks for both at once (Popular never
repeats what Related shows), half the length each, taken in turn (Related's first, Popular's
first, Related's second ...), so that every cut-off ``k`` holds about ``k / 2`` of each.
Settings (weights included) are the engine's own: a sweep opens an engine over a settings copy,
so every setting, whatever its name, reaches the lists through the path that serves readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from tqdm import tqdm

from evaluation.candidates import CandidateRule
from evaluation.corpus import Corpus
from evaluation.runs import Run, ranked
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.requests import MAX_K, ListRequest

__all__ = ["ENGINE_LISTS", "ListName", "engine_run", "list_request", "served_ids"]

ListName = Literal["more_like_this", "related", "popular", "related+popular"]
#: The engine lists an evaluation can score.
ENGINE_LISTS: tuple[ListName, ...] = ("more_like_this", "related", "popular", "related+popular")


def list_request(which: ListName, k: int) -> ListRequest:
    """The request that gives list ``which`` at length ``k`` (the HTTP query's ``k_*`` values).

    Raises:
        ValueError: an unknown list, or ``k`` outside 1 .. ``MAX_K``.
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K} for engine lists, got {k}")
    if which == "more_like_this":
        return ListRequest(k_more=k, k_related=0, k_popular=0)
    if which == "related":
        return ListRequest(k_more=0, k_related=k, k_popular=0)
    if which == "popular":
        return ListRequest(k_more=0, k_related=0, k_popular=k)
    if which == "related+popular":
        return ListRequest(k_more=0, k_related=(k + 1) // 2, k_popular=k // 2)
    raise ValueError(f"unknown engine list {which!r}; expected one of {ENGINE_LISTS}")


def served_ids(lists: RelatedLists, which: ListName) -> list[str]:
    """The article ids of list ``which`` in ``lists``, in the order served."""
    if which == "more_like_this":
        items = lists.more_like_this
    elif which == "related":
        items = lists.related
    elif which == "popular":
        items = lists.popular
    else:
        return _in_turn(
            [item.article.id for item in lists.related],
            [item.article.id for item in lists.popular],
        )
    return [item.article.id for item in items]


def _in_turn(first: list[str], second: list[str]) -> list[str]:
    taken: list[str] = []
    for i in range(max(len(first), len(second))):
        taken += [ids[i] for ids in (first, second) if i < len(ids)]
    return taken


def engine_run(
    engine: Engine,
    corpus: Corpus,
    source_ids: Sequence[str],
    k: int,
    which: ListName,
    *,
    rule: CandidateRule | None = None,
    progress: bool = False,
) -> Run:
    """One engine list per source, cut to ``k`` after the candidate rule is applied.

    With a time rule the engine is asked for ``MAX_K`` items and the disallowed ones are dropped,
    so a list can come out shorter than ``k`` when few earlier or nearby articles are similar.
    Lists are scored by their served rank (:func:`evaluation.runs.ranked`).

    Raises:
        ValueError: ``k`` above ``MAX_K`` or an unknown list.
    """
    rule = rule or CandidateRule()
    request = list_request(which, MAX_K if rule.restricts else k)
    run: Run = {}
    sources: Iterable[str] = tqdm(
        source_ids, desc=which, unit=" lists", disable=not progress, leave=False
    )
    for source in sources:
        served = served_ids(engine.lists_for(source, request), which)
        source_ts = corpus.published_ts[corpus.row_of[source]]
        kept = [
            doc for doc in served if rule.allows(corpus.published_ts[corpus.row_of[doc]], source_ts)
        ]
        run[source] = ranked(kept[:k])
    return run
