"""Specification of stories: re-issues, updates and copies of an article count as one story."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.signals.stories import NO_TITLE_KEY, normalise_title, story_labels


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("UPDATE 1-Storm Ingrid: river peaks at 4.2m", "storm ingrid river peaks at 4 2m"),
        ("Updated: Mayor Quint wins second term", "mayor quint wins second term"),
        ("REFILE-Oil prices rise", "oil prices rise"),
        ("CORRECTED-Oil prices rise", "oil prices rise"),
        ("REFILE-UPDATE 2-Oil prices rise", "oil prices rise"),
        ("  Oil   PRICES, rise!  ", "oil prices rise"),
        ("Zoë Müller wins £5,000", "zoë müller wins 5 000"),
    ],
)
def test_titles_normalise_without_reissue_markers_case_or_punctuation(
    title: str, expected: str
) -> None:
    assert normalise_title(title) == expected


def test_update_marker_only_at_the_start_is_dropped() -> None:
    assert normalise_title("Markets update: 1-day rally") == "markets update 1 day rally"


def _cosine(vectors: np.ndarray) -> np.ndarray:
    return vectors @ vectors.T


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_nearly_identical_vectors_form_one_story() -> None:
    vectors = np.stack([_unit(1, 0, 0), _unit(1, 0.05, 0), _unit(0, 1, 0)])
    # cos(first, second) = 1 / sqrt(1.0025) = 0.99875 >= 0.99; the third is orthogonal.
    labels = story_labels(_cosine(vectors), np.array([0, 1, 2]), threshold=0.99)
    assert labels.tolist() == [0, 0, 2]


def test_vectors_below_the_threshold_stay_apart() -> None:
    vectors = np.stack([_unit(1, 0, 0), _unit(1, 0.05, 0)])
    labels = story_labels(_cosine(vectors), np.array([0, 1]), threshold=0.999)
    assert labels.tolist() == [0, 1]


def test_matching_title_keys_form_one_story_whatever_the_vectors() -> None:
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)])
    labels = story_labels(_cosine(vectors), np.array([7, 3, 7]), threshold=0.99)
    assert labels.tolist() == [0, 1, 0]


def test_titles_that_normalise_to_nothing_match_nothing() -> None:
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 1, 0)])
    labels = story_labels(_cosine(vectors), np.array([NO_TITLE_KEY, NO_TITLE_KEY]), threshold=0.99)
    assert labels.tolist() == [0, 1]


def test_a_chain_of_copies_is_one_story_labelled_by_its_first_member() -> None:
    # a~b by vector, b~c by title, a and c share neither: still one story.
    vectors = np.stack([_unit(0, 0, 1), _unit(1, 0, 0), _unit(1, 0.05, 0), _unit(0, 1, 0)])
    labels = story_labels(_cosine(vectors), np.array([0, 1, 2, 1]), threshold=0.99)
    assert labels.tolist() == [0, 1, 1, 1]


def test_no_or_one_article_is_its_own_story() -> None:
    nothing = _cosine(np.zeros((0, 3), np.float32))
    assert story_labels(nothing, np.array([], np.int64), 0.9).tolist() == []
    assert story_labels(_cosine(np.stack([_unit(1, 0)])), np.array([0]), 0.9).tolist() == [0]
