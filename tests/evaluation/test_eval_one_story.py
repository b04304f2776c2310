"""Lists held to one item per story: every method judged under the rule the engine's lists obey."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.duplicates import StoryJudge, one_per_story
from evaluation.metrics import accuracy
from evaluation.runs import Qrels, Run, ranked

# s is the source and s-copy its re-titled copy (same vector); a and a-update are one story
# (same title once folded); b and c stand alone.
IDS = ["s", "s-copy", "a", "a-update", "b", "c"]
TITLES = ["Bank raises rates", "Rates up at the bank", "Oil falls", "OIL FALLS.", "Gold", "Corn"]
VECTORS = np.array(
    [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0.8, 0.6, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    dtype=np.float32,
)


@pytest.fixture
def judge() -> StoryJudge:
    """The evaluation's judge over the six articles above."""
    return StoryJudge(TITLES, VECTORS, {doc: row for row, doc in enumerate(IDS)})


def test_copies_of_the_source_and_of_items_above_are_dropped_in_order(judge: StoryJudge) -> None:
    run: Run = {"s": ranked(["s-copy", "a", "a-update", "b", "c"])}
    assert [doc for doc, _ in one_per_story(run, judge)["s"]] == ["a", "b", "c"]


def test_a_list_without_copies_is_unchanged(judge: StoryJudge) -> None:
    run: Run = {"s": ranked(["a", "b", "c"])}
    assert one_per_story(run, judge) == run


def test_a_list_that_scores_by_repeating_a_story_scores_less_held_to_the_rule(
    judge: StoryJudge,
) -> None:
    # Everything but c is relevant: the copy-laden list looks perfect at 3 until the copies
    # go; the list of three stories is the same either way.
    qrels: Qrels = {"s": {"s-copy": 1, "a": 1, "a-update": 1, "b": 1}}
    copies: Run = {"s": ranked(["s-copy", "a", "a-update", "c"])}
    stories: Run = {"s": ranked(["a", "b", "c"])}
    assert accuracy(copies, qrels, [3])["ndcg@3"][0] == pytest.approx(1.0)
    held = accuracy(one_per_story(copies, judge), qrels, [3])["ndcg@3"][0]
    assert held < accuracy(stories, qrels, [3])["ndcg@3"][0]
    assert accuracy(one_per_story(stories, judge), qrels, [3])["ndcg@3"][0] == pytest.approx(
        accuracy(stories, qrels, [3])["ndcg@3"][0]
    )
