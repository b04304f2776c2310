"""Lexical similarity: BM25 between articles, over an article's title and lead.

Embeddings judge meaning; the words two wire stories share (company names, tickers, commodities)
say whether they are about the same thing. Blending the two ranks both lists better than either
alone (Reuters figures in ``evaluation/README.md``), so every similarity in
:mod:`recommender.ranking.scoring` is ``(1 - share) * cosine + share * lexical``.

    bm25(q, d) = sum over distinct terms t of q of
                 idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)     = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    lexical(q, d) = bm25(q, d) / bm25(q, q)        (the source's match with itself is 1)

Normalising by the source's self-match puts the score on the scale of a cosine, so it blends
with the embedding cosine. Each article keeps its words' ids and counts; ``N``, ``df`` and
``avgdl`` are the current ones at query time, so a new article changes nothing but its own
counts. Scoring a few hundred candidates is a handful of array operations.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from recommender.signals.terms import words_of

__all__ = ["LEAD_CHARS", "LexicalBlock", "LexicalIndex", "TermVector", "lead_words"]

#: How much of the body, after the title, is read: the lead says what an article is about.
LEAD_CHARS = 600
K1, B = 1.2, 0.75  # BM25's usual constants; others did no better on Reuters TRAIN

TermVector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]  # sorted ids, counts
_T = TypeVar("_T", bound=np.generic)


def lead_words(title: str, body: str) -> list[str]:
    """The words the lexical match reads: the title's and the lead's."""
    return words_of(f"{title}.\n{body[:LEAD_CHARS]}")


@dataclass(frozen=True, slots=True)
class LexicalBlock:
    """The words of a fixed list of articles, gathered for scoring (``LexicalIndex.block``).

    ``row`` gives the article (its position in the list) of each gathered word, ``terms`` the
    word ids and ``saturated`` BM25's term-frequency part of each, with the index's ``avgdl``
    of the moment it was gathered.
    """

    size: int
    row: npt.NDArray[np.int64]
    terms: npt.NDArray[np.int64]
    saturated: npt.NDArray[np.float64]


class LexicalIndex:
    """Word counts of every article, by doc id, and the document frequencies of the words.

    The counts of all articles live in two flat arrays (word ids, counts), each
    article a slice of them found by its doc id, so scoring gathers every candidate's words in
    one vectorised step. A replaced or dropped article leaves its old slice behind; the arrays
    are compacted when such leftovers make up half of them.
    """

    def __init__(self, tokens: Callable[[str, str], list[str]] = lead_words) -> None:
        """No articles yet; ``tokens`` cuts an article's ``(title, body)`` into its terms
        (by default the words of its title and lead; :mod:`recommender.signals.names` keeps
        the names of the whole text in another index of this kind)."""
        self._tokenise = tokens
        self._lock = threading.Lock()
        self._frozen: tuple[npt.NDArray[np.float64], float] | None = None  # (df, N) for cosine
        self._vocabulary: dict[str, int] = {}
        self._df = np.zeros(1024, dtype=np.float64)
        self._terms = np.zeros(1 << 16, dtype=np.int64)
        self._weights = np.zeros(1 << 16, dtype=np.float32)
        self._used = 0
        self._leftover = 0
        self._start = np.zeros(1024, dtype=np.int64)
        self._length = np.zeros(1024, dtype=np.int64)
        self._present = np.zeros(1024, dtype=bool)
        self._tokens = np.zeros(1024, dtype=np.float64)  # |d|: words counted, with repeats
        self._total_tokens = 0.0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __getstate__(self) -> dict[str, object]:
        # Pickled to ship one index to many workers (recommender.distributed); a lock is not
        # picklable, and each copy needs its own anyway.
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def vector_of_text(self, title: str, body: str, *, learn: bool = False) -> TermVector:
        """The term vector of a text; unknown words are dropped unless ``learn``."""
        counts = Counter(self._tokenise(title, body))
        ids: list[int] = []
        tfs: list[float] = []
        for word, count in counts.items():
            term = self._vocabulary.get(word)
            if term is None and learn:
                term = self._vocabulary[word] = len(self._vocabulary)
            if term is not None:
                ids.append(term)
                tfs.append(count)
        order = np.argsort(ids, kind="stable")
        return (
            np.asarray(ids, dtype=np.int64)[order],
            np.asarray(tfs, dtype=np.float32)[order],
        )

    def put(self, doc_id: int, title: str, body: str) -> None:
        """Add or replace the words of article ``doc_id``."""
        self.put_many([(doc_id, title, body)])

    def put_many(self, articles: Iterable[tuple[int, str, str]]) -> None:
        """Add or replace the words of many ``(doc_id, title, body)`` at once (fast at load)."""
        with self._lock:
            docs: list[int] = []
            lengths: list[int] = []
            tokens: list[int] = []
            terms: list[int] = []
            counts: list[int] = []
            vocabulary = self._vocabulary
            for doc_id, title, body in articles:
                self._forget(doc_id)
                words = Counter(self._tokenise(title, body))
                for word, count in words.items():
                    term = vocabulary.get(word)
                    if term is None:
                        term = vocabulary[word] = len(vocabulary)
                    terms.append(term)
                    counts.append(count)
                docs.append(doc_id)
                lengths.append(len(words))
                tokens.append(sum(words.values()))
            if not docs:
                return
            # A doc given twice keeps its last words: earlier slices are left over.
            ids = np.asarray(docs, dtype=np.int64)
            sizes = np.asarray(lengths, dtype=np.int64)
            self._grow_docs(int(ids.max()))
            self._grow_pool(len(terms))
            starts = self._used + np.cumsum(sizes) - sizes
            last = _last_of_each(ids)
            self._leftover += int(sizes[~last].sum())
            if len(vocabulary) > len(self._df):
                self._df = _grown(self._df, len(vocabulary))
            end = self._used + len(terms)
            self._terms[self._used : end] = terms
            self._weights[self._used : end] = counts
            self._start[ids[last]], self._length[ids[last]] = starts[last], sizes[last]
            self._tokens[ids[last]] = np.asarray(tokens, dtype=np.float64)[last]
            self._total_tokens += float(self._tokens[ids[last]].sum())
            self._present[ids[last]] = True
            self._count += int(last.sum())
            kept = _slices(starts[last], sizes[last])
            np.add.at(self._df, self._terms[kept], 1.0)
            self._used = end

    def drop(self, doc_id: int) -> None:
        """Forget article ``doc_id``."""
        with self._lock:
            self._forget(doc_id)

    def _forget(self, doc_id: int) -> None:
        if doc_id >= len(self._present) or not self._present[doc_id]:
            return
        start, length = self._start[doc_id], self._length[doc_id]
        self._df[self._terms[start : start + length]] -= 1.0
        self._present[doc_id] = False
        self._length[doc_id] = 0
        self._total_tokens -= float(self._tokens[doc_id])
        self._tokens[doc_id] = 0.0
        self._leftover += int(length)
        self._count -= 1

    def _grow_docs(self, doc_id: int) -> None:
        if doc_id >= len(self._present):
            size = max(doc_id + 1, 2 * len(self._present))
            self._start = _grown(self._start, size)
            self._length = _grown(self._length, size)
            self._present = _grown(self._present, size)
            self._tokens = _grown(self._tokens, size)

    def _grow_pool(self, extra: int) -> None:
        if self._leftover > max(self._used // 2, 1 << 16):
            self._compact()
        if self._used + extra > len(self._terms):
            size = max(self._used + extra, 2 * len(self._terms))
            self._terms = _grown(self._terms, size)
            self._weights = _grown(self._weights, size)

    def _compact(self) -> None:
        docs = np.flatnonzero(self._present)
        rows = _slices(self._start[docs], self._length[docs])
        self._terms = self._terms[rows].copy()
        self._weights = self._weights[rows].copy()
        self._start[docs] = np.cumsum(self._length[docs]) - self._length[docs]
        self._used, self._leftover = len(rows), 0

    def vector_of(self, doc_ids: npt.NDArray[np.int64]) -> TermVector:
        """The summed term vector of stored articles (one article, or a reader's several)."""
        known = doc_ids[(doc_ids < len(self._present))]
        known = known[self._present[known]]
        if len(known) == 1:  # one article's words are distinct already: just sort them
            start = int(self._start[known[0]])
            ids = self._terms[start : start + int(self._length[known[0]])]
            order = np.argsort(ids)
            return ids[order], self._weights[start : start + len(ids)][order]
        rows = _slices(self._start[known], self._length[known])
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        unique, inverse = np.unique(self._terms[rows], return_inverse=True)
        summed = np.bincount(inverse, self._weights[rows], minlength=len(unique))
        return unique, summed.astype(np.float32)

    def similarity(
        self, source: TermVector, doc_ids: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """``lexical(source, d)`` for each article ``d`` of ``doc_ids`` (0 if unknown)."""
        return self.score(source, self.block(doc_ids))

    def block(self, doc_ids: npt.NDArray[np.int64]) -> LexicalBlock:
        """The words of ``doc_ids`` gathered for :meth:`score`; valid until the index changes.

        Gathering is most of the work of scoring, so a caller that scores many sources against
        the same articles (the engine's popular candidates) gathers once.
        """
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        inside = doc_ids < len(self._present)
        lengths = np.zeros(len(doc_ids), dtype=np.int64)
        starts = np.zeros(len(doc_ids), dtype=np.int64)
        tokens = np.zeros(len(doc_ids), dtype=np.float64)
        lengths[inside] = self._length[doc_ids[inside]]
        starts[inside] = self._start[doc_ids[inside]]
        tokens[inside] = self._tokens[doc_ids[inside]]
        rows = _slices(starts, lengths)
        row = np.repeat(np.arange(len(doc_ids)), lengths)
        return LexicalBlock(
            len(doc_ids),
            row,
            self._terms[rows],
            _saturated(self._weights[rows], tokens[row], self._avgdl()),
        )

    def score(self, source: TermVector, block: LexicalBlock) -> npt.NDArray[np.float32]:
        """``lexical(source, d)`` for each article ``d`` gathered in ``block``."""
        out = np.zeros(block.size, dtype=np.float32)
        source_ids, source_tf = source
        if len(block.terms) == 0 or len(source_ids) == 0:
            return out
        idf = self._idf(source_ids)
        self_match = float(
            np.sum(idf * _saturated(source_tf, float(source_tf.sum()), self._avgdl()))
        )
        if self_match <= 0.0:
            return out
        place = np.minimum(np.searchsorted(source_ids, block.terms), len(source_ids) - 1)
        shared = source_ids[place] == block.terms
        scores = idf[place[shared]] * block.saturated[shared]
        out[:] = np.bincount(block.row[shared], scores, minlength=block.size) / self_match
        return out

    def cosine(self, source: TermVector, doc_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The TF-IDF cosine of ``source`` with each article of ``doc_ids`` (0 if unknown).

        Term weights are ``(1 + ln tf) * idf`` with ``idf = ln((1 + N) / (1 + df)) + 1``
        (scikit-learn's sublinear, smoothed TF-IDF), measured with the current ``N`` and ``df``
        like BM25 above. Unlike BM25 it is symmetric and needs no self-match: names
        (:mod:`recommender.signals.names`) are compared this way, which ranked same-story
        articles better on Reuters TRAIN than BM25 over the same names did.
        """
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        out = np.zeros(len(doc_ids), dtype=np.float32)
        source_ids, source_tf = source
        if len(source_ids) == 0 or len(doc_ids) == 0:
            return out
        inside = doc_ids < len(self._present)
        lengths = np.zeros(len(doc_ids), dtype=np.int64)
        starts = np.zeros(len(doc_ids), dtype=np.int64)
        lengths[inside] = self._length[doc_ids[inside]]
        starts[inside] = self._start[doc_ids[inside]]
        rows = _slices(starts, lengths)
        if len(rows) == 0:
            return out
        row = np.repeat(np.arange(len(doc_ids)), lengths)
        terms = self._terms[rows]
        weights = _sublinear(self._weights[rows]) * self._smooth_idf(terms)
        norms = np.sqrt(np.bincount(row, weights * weights, minlength=len(doc_ids)))
        source_weights = _sublinear(source_tf) * self._smooth_idf(source_ids)
        source_norm = float(np.sqrt(np.sum(source_weights * source_weights)))
        place = np.minimum(np.searchsorted(source_ids, terms), len(source_ids) - 1)
        shared = source_ids[place] == terms
        dots = np.bincount(
            row[shared], weights[shared] * source_weights[place[shared]], minlength=len(doc_ids)
        ).astype(np.float64)  # (bincount of nothing is integer)
        scale = norms * source_norm
        np.divide(dots, scale, out=out, where=scale > 0, casting="unsafe")
        return out

    def freeze_statistics(self) -> None:
        """Let :meth:`cosine` weigh terms by the document frequencies of now, until called again.

        Live, every new article would move the weights of the words it uses, and with them the
        scores of lists it is not in: an answer would change (and lose its HTTP validator) after
        any write. The engine freezes them when it calibrates Related's gate (at load, and when
        the catalogue has grown or shrunk by a fifth); a word first seen since counts as rare.
        """
        with self._lock:
            self._frozen = (self._df[: len(self._vocabulary)].copy(), float(self._count))

    def _smooth_idf(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        frozen = self._frozen
        counts, n = (self._df, float(self._count)) if frozen is None else frozen
        df = np.zeros(len(ids), dtype=np.float64)
        known = ids < len(counts)
        df[known] = np.maximum(counts[ids[known]], 0.0)
        return np.log((1.0 + n) / (1.0 + df)) + 1.0

    def _avgdl(self) -> float:
        return self._total_tokens / max(self._count, 1)

    def _idf(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        df = np.maximum(self._df[ids], 0.0)
        n = float(self._count)
        return np.log1p(np.maximum(n - df + 0.5, 0.0) / (df + 0.5))


def _saturated(
    tf: npt.NDArray[np.float32], tokens: npt.NDArray[np.float64] | float, avgdl: float
) -> npt.NDArray[np.float64]:
    """BM25's term-frequency part: ``tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl))``."""
    tf64 = tf.astype(np.float64)
    return tf64 * (K1 + 1.0) / (tf64 + K1 * (1.0 - B + B * np.asarray(tokens) / max(avgdl, 1e-9)))


def _sublinear(tf: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """``1 + ln tf`` for the counts present (all positive)."""
    return 1.0 + np.log(np.maximum(tf.astype(np.float64), 1.0))


def _last_of_each(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True at the last occurrence of each value."""
    last = np.zeros(len(ids), dtype=bool)
    _, first_from_end = np.unique(ids[::-1], return_index=True)
    last[len(ids) - 1 - first_from_end] = True
    return last


def _grown(array: npt.NDArray[_T], size: int) -> npt.NDArray[_T]:
    grown = np.zeros(size, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _slices(starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The positions ``start .. start + length - 1`` of every slice, one after another."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)
