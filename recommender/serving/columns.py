"""Per-article signals held in memory, indexed by ``doc_id``, for fast vectorised scoring.

Scoring a few hundred candidates must not touch SQLite, nor must showing the handful a list
finally holds: each article's *card* (its record with the body cut to the lead) is kept here
too. Full bodies stay in the catalogue, read only to explain a list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterable

import numpy as np

from index import ArticleRecord
from recommender.serving.facets import Facets
from recommender.signals.lexical import LEAD_CHARS, LexicalIndex
from recommender.signals.names import name_index
from recommender.signals.stories import NO_TITLE_KEY, normalise_body, normalise_title

__all__ = ["NO_KEY", "ArticleColumns", "card_of"]

#: The body key of an article too short to be identified by its text; it matches no other.
NO_KEY = NO_TITLE_KEY


def card_of(record: ArticleRecord) -> ArticleRecord:
    """What a list shows of an article: the record with its body cut to the lead.

    Lists are served from these cards held in memory, so a request reads no database; the lead
    is longer than any snippet a list shows (``recommender.ingestion.articles.snippet``).
    """
    if len(record.body) <= LEAD_CHARS:
        return record
    return dataclasses.replace(record, body=record.body[:LEAD_CHARS])


class ArticleColumns:
    """Columns of publish time, popularity, section, language and title key, by ``doc_id``.

    The title key is an integer code of the normalised title (see
    :mod:`recommender.signals.stories`):
    equal keys mean matching titles, which makes two articles one story; so do equal body keys
    (a digest of the normalised body, :data:`NO_KEY` for short bodies). ``lexical`` holds each
    article's words for the lexical part of similarity (see :mod:`recommender.signals.lexical`).
    """

    def __init__(self, capacity: int = 1024) -> None:
        """Empty columns with room for ``capacity`` doc ids (they grow as needed)."""
        self._lock = threading.Lock()
        self.published_ts = np.full(capacity, np.nan)
        self.popularity = np.zeros(capacity)
        self.live = np.zeros(capacity, dtype=bool)
        self.section = np.full(capacity, -1, dtype=np.int32)
        self.language = np.full(capacity, -1, dtype=np.int32)
        self.title_key = np.full(capacity, NO_TITLE_KEY, dtype=np.int64)
        self.body_key = np.full(capacity, NO_KEY, dtype=np.int64)
        self._codes: dict[str, int] = {}
        self._title_codes: dict[str, int] = {}
        self.lexical = LexicalIndex()
        self.names = name_index()  # each article's names, for same-story evidence
        self.article_ids: dict[int, str] = {}
        self.doc_ids: dict[str, int] = {}
        self.cards: dict[int, ArticleRecord] = {}
        self.facets = Facets()  # for the author, kind, tag and field filters

    def code(self, value: str | None) -> int:
        """The integer code of a section or language name (-1 for none or never seen)."""
        if value is None:
            return -1
        return self._codes.get(value.lower(), -1)

    def _intern(self, value: str | None) -> int:
        if value is None:
            return -1
        return self._codes.setdefault(value.lower(), len(self._codes))

    def _title_code(self, title: str) -> int:
        key = normalise_title(title)
        if not key:
            return NO_TITLE_KEY
        return self._title_codes.setdefault(key, len(self._title_codes))

    @staticmethod
    def _body_code(body: str) -> int:
        # A 63-bit digest rather than an interned string: bodies are large, and a chance
        # collision would take 2**31 bodies to expect.
        key = normalise_body(body)
        if not key:
            return NO_KEY
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF

    def _grow(self, doc_id: int) -> None:
        size = len(self.live)
        if doc_id < size:
            return
        new = max(doc_id + 1, size * 2)
        self.published_ts = np.concatenate([self.published_ts, np.full(new - size, np.nan)])
        self.popularity = np.concatenate([self.popularity, np.zeros(new - size)])
        self.live = np.concatenate([self.live, np.zeros(new - size, dtype=bool)])
        self.section = np.concatenate([self.section, np.full(new - size, -1, dtype=np.int32)])
        self.language = np.concatenate([self.language, np.full(new - size, -1, dtype=np.int32)])
        self.title_key = np.concatenate(
            [self.title_key, np.full(new - size, NO_TITLE_KEY, dtype=np.int64)]
        )
        self.body_key = np.concatenate([self.body_key, np.full(new - size, NO_KEY, dtype=np.int64)])

    def put(self, records: Iterable[ArticleRecord]) -> None:
        """Add or replace the signals of ``records``."""
        with self._lock:
            words: list[tuple[int, str, str]] = []
            texts: list[tuple[int, str, str]] = []  # whole bodies: names are read from all
            for record in records:
                doc = record.doc_id
                words.append((doc, record.title, record.body[:LEAD_CHARS]))
                texts.append((doc, record.title, record.body))
                if len(words) >= 5_000:  # in batches: the catalogue may be streamed
                    self.lexical.put_many(words)
                    self.names.put_many(texts)
                    words, texts = [], []
                self._grow(doc)
                self.published_ts[doc] = (
                    record.published_at.timestamp() if record.published_at else np.nan
                )
                self.popularity[doc] = record.popularity
                self.section[doc] = self._intern(record.section)
                self.language[doc] = self._intern(record.language)
                self.title_key[doc] = self._title_code(record.title)
                self.body_key[doc] = self._body_code(record.body)
                self.live[doc] = True
                old_id = self.article_ids.get(doc)
                if old_id is not None and old_id != record.id:
                    self.doc_ids.pop(old_id, None)
                self.article_ids[doc] = record.id
                self.doc_ids[record.id] = doc
                self.cards[doc] = card_of(record)
                self.facets.put(doc, record)
            self.lexical.put_many(words)
            self.names.put_many(texts)

    def drop(self, doc_id: int) -> None:
        """Mark ``doc_id`` as no longer published."""
        with self._lock:
            if doc_id < len(self.live):
                self.live[doc_id] = False
            self.lexical.drop(doc_id)
            self.names.drop(doc_id)
            article_id = self.article_ids.pop(doc_id, None)
            if article_id is not None and self.doc_ids.get(article_id) == doc_id:
                del self.doc_ids[article_id]
            self.cards.pop(doc_id, None)
            self.facets.drop(doc_id)

    def __len__(self) -> int:
        return int(self.live.sum())
