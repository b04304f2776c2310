"""Shared names: the evidence that two articles tell the same story.

Two articles about the same topic share its vocabulary; two articles of the same story share its
names: the people, companies, places and bodies it is about (``Aldana``, ``OPEC``, ``Lanthorn
Bridge``). The names of an article are the capitalised words of its whole text, lower-cased,
without stopwords; a text written mostly in capitals (a wire headline) gives none. Words that
open a sentence count too: the rarity weighting keeps ``The`` and ``Shares`` from counting for
much, and keeping them ranked same-story articles better on Reuters TRAIN than keeping only
runs of capitals inside sentences (``evaluation/README.md``).

The names of every article are held in a :class:`~recommender.signals.lexical.LexicalIndex`
(word ids and counts, with document frequencies), and two articles' match is the TF-IDF cosine
of their names, in [0, 1]: :meth:`~recommender.signals.lexical.LexicalIndex.cosine`.
"""

from __future__ import annotations

from recommender.signals.lexical import LexicalIndex
from recommender.signals.terms import STOPWORDS, WORD, mostly_capitals

__all__ = ["name_index", "names_of"]


def names_of(title: str, body: str) -> list[str]:
    """The names in an article's title and body, lower-cased, in text order with repeats."""
    names: list[str] = []
    for text in (title, body):
        if mostly_capitals(text):
            continue
        for word in WORD.findall(text):
            if word[0].isupper() and len(word) > 1:
                key = word.lower()
                if key not in STOPWORDS:
                    names.append(key)
    return names


def name_index() -> LexicalIndex:
    """An empty index of articles' names (put whole bodies: names are read from all of it)."""
    return LexicalIndex(tokens=names_of)
