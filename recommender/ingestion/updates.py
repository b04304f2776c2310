"""The live write path: upsert and unpublish articles while the engine serves.

A change lands in the catalogue (embedding only content that changed) and is applied to the
engine's index straight away, so it shows in this engine's lists at once, with no rebuild.
Other workers and processes over the same home pick it up from the catalogue's change log when
they next poll it, or at once for a read that asks for the write's generation
(``min_generation``, README "Read-your-write").

Writes take the catalogue's writer lock (waiting a little), so the service never writes while a
``newsrec ingest`` or ``reindex`` does; a job holding it longer makes the write fail with
``index.LockedError``, which callers should report as "retry later".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index import ArticleRecord, Catalogue
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import InvalidArticle, article_from_mapping, embedding_text
from recommender.operations.writer import writer_lock
from recommender.serving.engine import Engine, UnknownArticle

__all__ = [
    "LOCK_WAIT_SECONDS",
    "InvalidBatch",
    "UpsertReport",
    "embed_changed",
    "unpublish_article",
    "upsert_articles",
    "validate_articles",
]

#: How long a live write waits for another writer (an ingest, a reindex) before giving up.
LOCK_WAIT_SECONDS = 5.0


class InvalidBatch(InvalidArticle):
    """Articles of a batch that cannot be accepted; nothing of the batch was written.

    Attributes:
        problems: ``(position in the batch, reason naming the field)`` for each bad article.
    """

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = list(problems)
        first = "; ".join(f"article {pos}: {why}" for pos, why in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(first + more)


@dataclass(frozen=True, slots=True)
class UpsertReport:
    """What an upsert did, and the index version that now answers."""

    added: int
    updated: int
    unchanged: int
    embedded: int
    index_version: str


def validate_articles(
    articles: Sequence[Mapping[str, Any]], embedding_key: str = ""
) -> list[ArticleRecord]:
    """Validate every article of a batch into a record (``Settings.embedding_key`` for hashes).

    Raises:
        InvalidBatch: naming each bad article's position and field; none is returned then.
    """
    records: list[ArticleRecord] = []
    problems: list[tuple[int, str]] = []
    for position, raw in enumerate(articles):
        try:
            records.append(article_from_mapping(raw, embedding_key=embedding_key))
        except InvalidArticle as exc:
            problems.append((position, str(exc)))
    if problems:
        raise InvalidBatch(problems)
    return records


def upsert_articles(
    engine: Engine,
    articles: Sequence[Mapping[str, Any]],
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> UpsertReport:
    """Add or update ``articles`` (all or none) and make the change visible at once.

    Only articles whose title or body changed are embedded, with ``engine.embedder``.

    Raises:
        InvalidBatch: some article is invalid; nothing was written.
        index.LockedError: another job kept the writer lock for ``lock_wait`` seconds.
    """
    records = validate_articles(articles, engine.settings.embedding_key)
    latest = {record.id: record for record in records}  # a later copy of an id wins
    catalogue = engine.catalogue
    # Embedding is the slow part, so it runs before taking the lock; whatever changed under
    # us meanwhile is embedded again inside it.
    vectors = embed_changed(catalogue, latest, lambda: engine.embedder)
    with writer_lock(engine.settings, wait=lock_wait, purpose="service upsert"):
        vectors = embed_changed(catalogue, latest, lambda: engine.embedder, vectors)
        counts = catalogue.upsert(list(latest.values()), vectors)
    engine.refresh()
    return UpsertReport(
        added=counts.added,
        updated=counts.updated,
        unchanged=counts.unchanged,
        embedded=len(vectors),
        index_version=engine.index_version,
    )


def unpublish_article(
    engine: Engine, article_id: str, *, lock_wait: float = LOCK_WAIT_SECONDS
) -> str:
    """Take ``article_id`` out of this engine's lists at once (other workers follow the change
    log); returns the index version now served.

    Raises:
        UnknownArticle: no published article has this id.
        index.LockedError: another job kept the writer lock for ``lock_wait`` seconds.
    """
    with writer_lock(engine.settings, wait=lock_wait, purpose="service unpublish"):
        removed = engine.catalogue.unpublish(article_id)
    if not removed:
        raise UnknownArticle(article_id)
    engine.refresh()
    return engine.index_version


def embed_changed(
    catalogue: Catalogue,
    records: Mapping[str, ArticleRecord],
    embedder: Callable[[], Embedder],
    done: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Vectors for every record whose stored content differs (by content hash), reusing those
    in ``done``: the one rule of what to embed, for ingest and for live upserts alike.

    ``embedder`` is called only when something must be embedded.
    """
    stored = catalogue.content_hashes(records)
    vectors = {
        article_id: vector
        for article_id, vector in (done or {}).items()
        if stored.get(article_id) != records[article_id].content_hash
    }
    missing = [
        record
        for article_id, record in records.items()
        if stored.get(article_id) != record.content_hash and article_id not in vectors
    ]
    if missing:
        matrix = embedder().encode([embedding_text(r.title, r.body) for r in missing])
        vectors.update({record.id: matrix[i] for i, record in enumerate(missing)})
    return vectors
