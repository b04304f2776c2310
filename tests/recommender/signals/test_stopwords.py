"""The stop-word list kept in the project is scikit-learn's, word for word."""

from __future__ import annotations

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS

from recommender.signals.stopwords import ENGLISH_STOP_WORDS
from recommender.signals.terms import STOPWORDS


def test_the_list_equals_scikit_learns() -> None:
    assert ENGLISH_STOP_WORDS == SKLEARN_STOP_WORDS


def test_terms_drop_every_word_of_it() -> None:
    assert ENGLISH_STOP_WORDS <= STOPWORDS
