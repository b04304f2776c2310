"""Specification of lexical similarity (TF-IDF cosine of title and lead), computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.lexical import LexicalIndex


def _index() -> LexicalIndex:
    lexical = LexicalIndex()
    lexical.put_many(
        [
            (0, "Storm hits coast", "storm storm rain"),
            (1, "Storm over", "rain"),  # "over" is a stopword
            (2, "Bridge closed", "cracks"),
        ]
    )
    return lexical


def test_similarity_is_the_tfidf_cosine() -> None:
    # N = 3. Doc 0: storm x3, hits, coast, rain; doc 1: storm, rain. df: storm 2, rain 2,
    # hits 1, coast 1. idf = ln(4 / (1 + df)) + 1; weight = (1 + ln tf) * idf.
    idf2, idf1 = math.log(4 / 3) + 1, math.log(4 / 2) + 1
    source = [(1 + math.log(3)) * idf2, idf1, idf1, idf2]  # storm, hits, coast, rain
    other = [idf2, idf2]  # storm, rain
    dot = source[0] * other[0] + source[3] * other[1]
    expected = dot / (math.hypot(*source) * math.hypot(*other))
    lexical = _index()
    got = lexical.similarity(lexical.vector_of(np.array([0])), np.array([0, 1, 2, 9]))
    np.testing.assert_allclose(got, [1.0, expected, 0.0, 0.0], rtol=1e-5)


def test_replacing_an_article_replaces_its_words() -> None:
    lexical = _index()
    lexical.put(1, "Bridge cracks", "closed")
    got = lexical.similarity(lexical.vector_of(np.array([2])), np.array([1]))
    assert got[0] == pytest.approx(1.0, abs=1e-6)
    assert len(lexical) == 3


def test_a_dropped_article_has_no_words() -> None:
    lexical = _index()
    lexical.drop(1)
    assert len(lexical) == 2
    assert lexical.similarity(lexical.vector_of(np.array([0])), np.array([1]))[0] == 0.0


def test_the_last_words_given_for_an_article_win() -> None:
    lexical = LexicalIndex()
    lexical.put_many([(0, "storm", "rain"), (0, "bridge", "cracks"), (1, "bridge", "cracks")])
    assert len(lexical) == 2
    assert lexical.similarity(lexical.vector_of(np.array([0])), np.array([1]))[0] == (
        pytest.approx(1.0, abs=1e-6)
    )


def test_a_draft_is_scored_on_the_words_the_catalogue_knows() -> None:
    lexical = _index()
    draft = lexical.vector_of_text("Storm warning", "unheard-of words only")
    assert lexical.similarity(draft, np.array([1]))[0] > 0.0
    assert lexical.similarity(draft, np.array([2]))[0] == 0.0
