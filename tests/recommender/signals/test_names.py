"""Shared names (same-story evidence): which words are names, and their TF-IDF cosine."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recommender.signals.names import name_index, names_of

_ARTICLES = [
    ("Aldana wins", "Priya Aldana beat Holloway. The Council met on Monday at Lanthorn Bridge."),
    ("Bridge shut", "Lanthorn Bridge was closed. Engineers said the Council must pay."),
    ("Rovers win", "Harborview Rovers beat Castlegate. Müller scored twice for Rovers."),
    ("OPEC MEETS", "OPEC ministers met in Vienna. Saudi Arabia said output holds."),
]


def test_names_are_the_capitalised_words_without_stopwords() -> None:
    names = names_of("Aldana wins", "Priya Aldana beat Holloway. The Council met on Monday.")
    # "The" opens a sentence and is a stopword; lower-case words are no names.
    assert names == ["aldana", "priya", "aldana", "holloway", "council", "monday"]


def test_a_headline_in_capitals_gives_no_names() -> None:
    assert names_of("OPEC MINISTERS MEET IN VIENNA", "") == []
    assert names_of("OPEC MINISTERS MEET IN VIENNA", "OPEC met.") == ["opec"]


def test_names_match_is_scikit_learns_sublinear_tfidf_cosine() -> None:
    index = name_index()
    index.put_many([(doc, title, body) for doc, (title, body) in enumerate(_ARTICLES)])
    tokens = [names_of(title, body) for title, body in _ARTICLES]
    # The specification: scikit-learn's sublinear, smoothed TF-IDF of the same names.
    vectors = normalize(
        TfidfVectorizer(sublinear_tf=True, analyzer=lambda names: names).fit_transform(tokens)
    )
    expected = (vectors @ vectors.T).toarray()
    docs = np.arange(len(_ARTICLES))
    for source in docs:
        got = index.cosine(index.vector_of(np.array([source])), docs)
        np.testing.assert_allclose(got, expected[source], rtol=1e-5, atol=1e-6)


def test_a_draft_is_matched_on_its_own_names_and_unknown_articles_score_zero() -> None:
    index = name_index()
    index.put_many([(doc, title, body) for doc, (title, body) in enumerate(_ARTICLES)])
    draft = index.vector_of_text("Bridge repairs", "The Council voted on Lanthorn Bridge.")
    got = index.cosine(draft, np.array([0, 1, 2, 3, 42]))
    assert got[1] > got[0] > 0.0  # the bridge story first, then the one that names the bridge
    assert got[2] == got[3] == got[4] == 0.0


def test_a_source_sharing_no_name_with_any_candidate_matches_none() -> None:
    index = name_index()
    index.put_many([(doc, title, body) for doc, (title, body) in enumerate(_ARTICLES)])
    draft = index.vector_of_text("Quiet day", "Nothing happened. Aldana stayed home.")
    assert index.cosine(draft, np.array([2, 3])).tolist() == [0.0, 0.0]
    lonely = index.vector_of_text("Quiet day", "Nobody named.")
    assert index.cosine(lonely, np.array([0, 1])).tolist() == [0.0, 0.0]


def test_frozen_statistics_keep_scores_still_when_unrelated_articles_arrive() -> None:
    index = name_index()
    index.put_many([(doc, title, body) for doc, (title, body) in enumerate(_ARTICLES)])
    index.freeze_statistics()
    source = index.vector_of(np.array([0]))
    before = index.cosine(source, np.array([1]))
    # A new article naming the Council changes its document frequency, not the frozen weights.
    index.put(9, "Council news", "The Council met the Council again. Vienna too.")
    np.testing.assert_array_equal(index.cosine(source, np.array([1])), before)
    index.freeze_statistics()  # weighed anew: now it moves
    assert index.cosine(source, np.array([1]))[0] != before[0]
