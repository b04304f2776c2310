"""Specification of lexical similarity (BM25 of title and lead), computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.signals.lexical import LexicalIndex


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


def test_similarity_is_bm25_over_the_self_match() -> None:
    # N = 3, avgdl = 11 / 3. Doc 0: storm x3, hits, coast, rain (6 words); doc 1: storm, rain
    # (2 words). df: storm 2, rain 2, hits 1, coast 1; idf = ln(1 + (N - df + .5) / (df + .5)).
    avgdl = 11 / 3
    idf2, idf1 = math.log1p(1.5 / 2.5), math.log1p(2.5 / 1.5)

    def saturated(tf: float, words: float) -> float:
        return tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * words / avgdl))

    self_match = idf2 * saturated(3, 6) + 2 * idf1 * saturated(1, 6) + idf2 * saturated(1, 6)
    expected = (idf2 * saturated(1, 2) + idf2 * saturated(1, 2)) / self_match
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
