"""Why is this related: the terms and names an item shares with its source.

Each text is cut into words (lower case, stopwords and numbers dropped) and names (runs of
capitalised words such as ``Storm Ingrid`` or ``Lanthorn Bridge``; all-capitals text such as
wire headlines gives no names). A shared term weighs what it adds to the TF-IDF dot product of
the two texts, ``tf_source * tf_item * idf ** 2`` with ``idf = log((1 + N) / (1 + df)) + 1``
over a sample of the catalogue, so the rare words and names two articles have in common come
first and words every article uses come last. Names come before the words they contain.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from recommender.signals.stopwords import ENGLISH_STOP_WORDS

__all__ = [
    "STOPWORDS",
    "WORD",
    "TermStatistics",
    "Terms",
    "mostly_capitals",
    "shared_terms",
    "terms_of",
    "words_of",
]

WORD = re.compile(r"[^\W\d_][\w'\u2019-]*[^\W_]|[^\W\d_]", re.UNICODE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"\u201c(]\s*)\s*$")
_EXTRA_STOPWORDS = frozenset(
    {
        "said",
        "says",
        "say",
        "also",
        "would",
        "could",
        "new",
        "year",
        "years",
        "mln",
        "pct",
        "dlrs",
        "reuter",
        "reuters",
        "der",
        "die",
        "das",
        "und",
        "ein",
        "eine",
        "mit",
        "von",
        "den",
        "dem",
        "des",
        "ist",
        "im",
        "zu",
        "auf",
        "für",
        "nicht",
        "sich",
        "es",
    }
)
STOPWORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOPWORDS
_MAX_CHARS = 4_000  # the lead says what an article is about; the tail adds noise and time


@dataclass(frozen=True, slots=True)
class Terms:
    """The words and names of one text, with counts; names keyed in lower case."""

    words: Counter[str]
    names: dict[str, str]  # lower-case key -> the name as written
    name_counts: Counter[str] = field(default_factory=Counter)

    def keys(self) -> set[str]:
        """Every term key (words and lower-cased names)."""
        return set(self.words) | set(self.names)


def words_of(text: str) -> list[str]:
    """The words of ``text`` in lower case, without stopwords, numbers or single letters."""
    return [w for w in WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]


def terms_of(title: str, body: str) -> Terms:
    """The terms of an article's title and the first few thousand characters of its body."""
    words = Counter(w for w in words_of(f"{title}.\n{body[:_MAX_CHARS]}") if len(w) > 2)
    names: dict[str, str] = {}
    name_counts: Counter[str] = Counter()
    for part in (title, body[:_MAX_CHARS]):
        if mostly_capitals(part):
            continue
        for name in _names(part):
            key = name.lower()
            names.setdefault(key, name)
            name_counts[key] += 1
    return Terms(words, names, name_counts)


def _names(text: str) -> Iterable[str]:
    """Runs of capitalised words joined only by spaces, minus leading stopwords."""
    run: list[str] = []
    run_starts_sentence = False
    end = 0
    for match in WORD.finditer(text):
        word = match.group(0)
        gap = text[end : match.start()]
        capital = word[0].isupper()
        if run and (not capital or gap.strip()):
            yield from _finish(run, run_starts_sentence)
            run = []
        if capital:
            if not run:
                run_starts_sentence = _SENTENCE_START.search(text[: match.start()]) is not None
            run.append(word)
        end = match.end()
    if run:
        yield from _finish(run, run_starts_sentence)


def _finish(run: list[str], starts_sentence: bool) -> Iterable[str]:
    while run and run[0].lower() in STOPWORDS:
        run, starts_sentence = run[1:], False
    if not run or all(w.lower() in STOPWORDS for w in run):
        return
    if len(run) == 1 and (starts_sentence or len(run[0]) < 3):
        # A lone capitalised word opening a sentence is usually just its first word.
        return
    yield " ".join(run)


def mostly_capitals(text: str) -> bool:
    """Whether ``text`` is written mostly in capitals (a wire headline): its capitals say
    nothing about names."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)


class TermStatistics:
    """Document frequencies of terms over a collection (a sample of the catalogue)."""

    def __init__(self, documents: Iterable[Terms] = ()) -> None:
        """Count in how many of ``documents`` each term occurs."""
        self.df: Counter[str] = Counter()
        self.n = 0
        for terms in documents:
            self.df.update(terms.keys())
            self.n += 1

    def idf(self, term: str) -> float:
        """``log((1 + N) / (1 + df)) + 1``: 1 for a term in every document, more for rarer."""
        return math.log((1 + self.n) / (1 + self.df.get(term, 0))) + 1.0


def shared_terms(
    source: Terms, item: Terms, statistics: TermStatistics, limit: int = 6
) -> tuple[str, ...]:
    """The ``limit`` terms and names ``source`` and ``item`` share, strongest first."""
    weights: dict[str, float] = {}
    shown: dict[str, str] = {}
    for key in set(source.names) & set(item.names):
        tf = source.name_counts[key] * item.name_counts[key]
        # Names outrank words: a shared name is the clearest reason two stories connect.
        weights[key] = 2.0 * tf * statistics.idf(key) ** 2
        shown[key] = source.names[key]
    in_names = {part for key in weights for part in key.split()}
    for word in set(source.words) & set(item.words):
        if word in in_names or word in weights:
            continue
        weights[word] = source.words[word] * item.words[word] * statistics.idf(word) ** 2
        shown[word] = word
    ranked = sorted(weights, key=lambda key: (-weights[key], key))
    return tuple(shown[key] for key in ranked[:limit])
