"""The article catalogue: the store of article metadata, their vectors and a change log.

The catalogue is the source of truth. Vectors are kept here as float32 BLOBs so a vector index
can always be rebuilt without re-embedding, and every add/update/delete appends a row to
`changes` so an index can be brought up to date incrementally from the seq it reflects.

It lives in a SQLite file (one machine) or a PostgreSQL database (several serving machines),
chosen by its target: a path or a ``postgresql://`` URL. The SQL is the same for both
(:mod:`index.postgres` translates it).

Format versions (``meta.schema_version``): 1, the first; 2 adds each article's ``author``,
``kind`` and ``fields`` (a JSON object of the newsroom's own scalar fields). A version-1 file
is migrated in place when opened for writing, and read as it is when opened read-only.
"""

from __future__ import annotations

import json
import math
import numbers
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt

from index.connection import CatalogueDatabase, Connection, open_connection, rollback, table_names
from index.crashpoints import crash_point
from index.disk import disk_error
from index.errors import CatalogueError, FormatVersionError
from index.migration import migrate_schema
from index.targets import CatalogueTarget

__all__ = ["ArticleRecord", "Catalogue", "Change", "FieldValue", "NetChanges", "UpsertCounts"]

# SQLite limits the number of bound parameters per statement (32766 since 3.32, 999 before).
_CHUNK = 500
_BUSY_TIMEOUT_S = 30.0
_MAX_PROBLEMS = 20  # a badly damaged file would otherwise list every row
_VECTOR_DTYPE = np.dtype("<f4")
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- AUTOINCREMENT: a doc_id is referenced by vector indexes built earlier, so it must never be
-- handed to another article, even if rows are ever purged.
CREATE TABLE articles (
    doc_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    url           TEXT,
    section       TEXT,
    tags          TEXT NOT NULL,
    language      TEXT,
    published_at  TEXT,
    published_ts  REAL,
    popularity    REAL NOT NULL,
    content_hash  TEXT NOT NULL,
    vector        BLOB NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT,
    author        TEXT,
    kind          TEXT,
    fields        TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX articles_id ON articles (id);
CREATE INDEX articles_published_ts ON articles (published_ts) WHERE deleted_at IS NULL;
CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      INTEGER NOT NULL,
    article_id  TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    at          TEXT NOT NULL
);
"""

_RECORD_COLUMNS = (
    "doc_id, id, title, body, url, section, tags, language, published_at, popularity, "
    "content_hash, author, kind, fields"
)
# A version-1 file opened read-only cannot be migrated: its articles read with no metadata.
_RECORD_COLUMNS_V1 = _RECORD_COLUMNS.replace("author, kind, fields", "NULL, NULL, '{}'")
# Version 1 to 2, in one transaction with the version's update.
_MIGRATE_TO_V2 = (
    "ALTER TABLE articles ADD COLUMN author TEXT",
    "ALTER TABLE articles ADD COLUMN kind TEXT",
    "ALTER TABLE articles ADD COLUMN fields TEXT NOT NULL DEFAULT '{}'",
)

#: The value of one of an article's own ``fields``.
FieldValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One article as stored in the catalogue."""

    id: str
    title: str
    body: str
    url: str | None
    section: str | None
    tags: tuple[str, ...]
    language: str | None
    published_at: datetime | None  # tz-aware UTC
    popularity: float  # static count given at ingest (0.0 if none)
    content_hash: str  # hex digest of the embedded text; computed by the caller
    doc_id: int = -1  # stable int64 id used in vector indexes; assigned by the catalogue
    author: str | None = None
    kind: str | None = None  # the content type: news, opinion, analysis, video, live, ...
    # The newsroom's own scalar fields, as (name, value) pairs sorted by name: a tuple, so
    # that the record stays immutable, hashable and picklable.
    fields: tuple[tuple[str, FieldValue], ...] = ()


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What one upsert call did."""

    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log; `seq` increases strictly."""

    seq: int
    doc_id: int
    article_id: str
    op: Literal["upsert", "delete"]


@dataclass(frozen=True, slots=True)
class NetChanges:
    """The changes after a point folded to each article's latest: what a replay must do."""

    upserted: list[int]  # doc ids whose latest change is an upsert, in first-change order
    deleted: list[int]  # doc ids whose latest change is a delete
    last_seq: int  # the last change folded in (the starting point when there were none)
    count: int  # how many changes were folded

    def touched(self) -> list[int]:
        """Every doc id changed, sorted."""
        return sorted([*self.upserted, *self.deleted])


_COMPARED = tuple(f.name for f in fields(ArticleRecord) if f.name != "doc_id")


class Catalogue(CatalogueDatabase):
    """The article catalogue in a SQLite file or a PostgreSQL database; one instance may be
    shared between threads."""

    SCHEMA_VERSION: ClassVar[int] = 2

    def __init__(self, path: CatalogueTarget, *, readonly: bool = False) -> None:
        """Open (creating if new and not `readonly`) the catalogue at `path`: a SQLite file, or
        a PostgreSQL database named by a ``postgresql://`` URL.

        Raises FormatVersionError if a newer newsrec wrote it, CatalogueUnavailable if the
        PostgreSQL database cannot be reached, and CatalogueError if it is not a newsrec
        catalogue or cannot be opened.
        """
        self._set_target(path)
        self._readonly = readonly
        self._lock = threading.Lock()
        self._dim: int | None = None
        self._columns = _RECORD_COLUMNS
        if readonly and not self.on_postgres and not self._path.is_file():
            raise CatalogueError(f"{self._where}: no catalogue here (opened read-only)")
        if not readonly and not self.on_postgres:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                error = disk_error(exc)
                if error is None:
                    raise
                raise error from exc
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE so that a
        # writer takes the write lock up front; upgrading a read lock mid-transaction can fail
        # with SQLITE_BUSY without the busy timeout ever applying.
        conn = open_connection(self._target, readonly=readonly, timeout=_BUSY_TIMEOUT_S)
        self._conn: Connection | None = conn
        try:
            self._setup(conn)
        except BaseException:
            conn.close()
            self._conn = None
            raise

    @property
    def dim(self) -> int | None:
        """Dimension of the stored vectors, or None until the first vector is stored."""
        with self._guarded():
            # Read afresh: another process may have stored the first vector since we opened.
            self._dim = self._read_dim(self._open_conn())
            return self._dim

    def __repr__(self) -> str:
        return f"Catalogue({self._where!r}, readonly={self._readonly})"

    # -- reads ---------------------------------------------------------------------------------

    def content_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """Return id -> content_hash for the given ids that are live; others are absent."""
        out: dict[str, str] = {}
        with self._guarded():
            conn = self._open_conn()
            for chunk in _chunks(list(dict.fromkeys(ids))):
                rows = conn.execute(
                    f"SELECT id, content_hash FROM articles "
                    f"WHERE deleted_at IS NULL AND id IN ({_marks(chunk)})",
                    chunk,
                )
                out.update(rows.fetchall())
        return out

    def get(self, article_id: str) -> ArticleRecord | None:
        """Return the live article `article_id`, or None if unknown or unpublished."""
        with self._guarded():
            row = (
                self._open_conn()
                .execute(
                    f"SELECT {self._columns} FROM articles WHERE id = ? AND deleted_at IS NULL",
                    (article_id,),
                )
                .fetchone()
            )
        return None if row is None else self._decode(row)

    def get_by_doc_ids(self, doc_ids: Iterable[int]) -> list[ArticleRecord]:
        """Return the live articles with these doc ids, in the order given, skipping missing.

        Accepts a numpy id array too; the -1 padding of search results is simply skipped.
        """
        wanted = [int(d) for d in doc_ids]
        found: dict[int, ArticleRecord] = {}
        with self._guarded():
            conn = self._open_conn()
            for chunk in _chunks(list(dict.fromkeys(wanted))):
                rows = conn.execute(
                    f"SELECT {self._columns} FROM articles "
                    f"WHERE deleted_at IS NULL AND doc_id IN ({_marks(chunk)})",
                    chunk,
                ).fetchall()
                for row in rows:
                    record = self._decode(row)
                    found[record.doc_id] = record
        return [found[d] for d in wanted if d in found]

    def doc_id_of(self, article_id: str) -> int | None:
        """Return the doc id of the live article `article_id`, or None."""
        with self._guarded():
            row = (
                self._open_conn()
                .execute(
                    "SELECT doc_id FROM articles WHERE id = ? AND deleted_at IS NULL",
                    (article_id,),
                )
                .fetchone()
            )
        return None if row is None else int(row[0])

    def count(self) -> int:
        """Number of live articles."""
        with self._guarded():
            row = (
                self._open_conn()
                .execute("SELECT COUNT(*) FROM articles WHERE deleted_at IS NULL")
                .fetchone()
            )
        return int(row[0])

    def find(self, words: Sequence[str], *, exact: str, limit: int) -> list[ArticleRecord]:
        """Live articles whose title or URL holds every one of ``words`` (case-insensitive for
        ASCII letters, as SQLite's ``LIKE``), at most ``limit`` of them.

        First the article whose id or URL is ``exact``, then those whose title holds the
        words in their order, then the newest.

        Raises:
            ValueError: no words, or a ``limit`` below 1.
        """
        if not words:
            raise ValueError("find needs at least one word")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        patterns = ["%" + _like_escaped(word) + "%" for word in words]
        where = " AND ".join(
            "(title LIKE ? ESCAPE '\\' OR url LIKE ? ESCAPE '\\')" for _ in patterns
        )
        phrase = "%" + _like_escaped(" ".join(words)) + "%"
        with self._guarded():
            rows = (
                self._open_conn()
                .execute(
                    f"SELECT {self._columns} FROM articles WHERE deleted_at IS NULL "
                    f"AND (id = ? OR url = ? OR ({where})) "
                    # NULLs are ordered explicitly: PostgreSQL puts them first in DESC.
                    "ORDER BY (id = ? OR (url IS NOT NULL AND url = ?)) DESC, "
                    "(title LIKE ? ESCAPE '\\') DESC, published_ts DESC NULLS LAST, "
                    "doc_id DESC LIMIT ?",
                    (
                        exact,
                        exact,
                        *(p for pattern in patterns for p in (pattern, pattern)),
                        exact,
                        exact,
                        phrase,
                        limit,
                    ),
                )
                .fetchall()
            )
        return [self._decode(row) for row in rows]

    def iter_records(self, batch: int = 5000) -> Iterator[ArticleRecord]:
        """Yield every live article ordered by doc id, reading `batch` rows at a time.

        The lock is released between batches, so other threads are not blocked while the
        caller processes records; writes made meanwhile may or may not be seen.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        last = -1
        while True:
            with self._guarded():
                rows = (
                    self._open_conn()
                    .execute(
                        f"SELECT {self._columns} FROM articles "
                        "WHERE deleted_at IS NULL AND doc_id > ? ORDER BY doc_id LIMIT ?",
                        (last, batch),
                    )
                    .fetchall()
                )
            if not rows:
                return
            for row in rows:
                yield self._decode(row)
            last = int(rows[-1][0])

    def vectors(
        self, doc_ids: Iterable[int] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Return (doc ids, (n, dim) float32 matrix) of live articles, ordered by doc id.

        With `doc_ids`, only those (live ones; others are skipped); otherwise all.
        """
        chunks: list[list[int]]
        if doc_ids is None:
            where, chunks = "", [[]]
        else:
            where, chunks = " AND doc_id IN ({})", list(_chunks(sorted({int(d) for d in doc_ids})))
        with self._guarded():
            conn = self._open_conn()
            # One read transaction, so the dimension, count and rows come from one snapshot even
            # if another process writes meanwhile; filling a preallocated matrix avoids holding
            # every BLOB and the matrix in memory at once.
            conn.execute("BEGIN")
            try:
                self._dim = self._read_dim(conn)
                dim = self._dim or 0
                total = 0
                for chunk in chunks:
                    total += conn.execute(
                        "SELECT COUNT(*) FROM articles WHERE deleted_at IS NULL "
                        + where.format(_marks(chunk)),
                        chunk,
                    ).fetchone()[0]
                ids = np.empty(total, dtype=np.int64)
                matrix = np.empty((total, dim), dtype=np.float32)
                row = 0
                for chunk in chunks:
                    cursor = conn.execute(
                        "SELECT doc_id, vector FROM articles WHERE deleted_at IS NULL "
                        + where.format(_marks(chunk))
                        + " ORDER BY doc_id",
                        chunk,
                    )
                    for doc_id, blob in cursor:
                        ids[row] = doc_id
                        matrix[row] = self._decode_vector(doc_id, blob, dim)
                        row += 1
            finally:
                conn.execute("COMMIT")
        return ids, matrix

    def last_seq(self) -> int:
        """Highest change seq, 0 if nothing has been recorded."""
        with self._guarded():
            row = self._open_conn().execute("SELECT MAX(seq) FROM changes").fetchone()
        return int(row[0] or 0)

    def changes_since(self, seq: int) -> list[Change]:
        """Return the changes with seq greater than `seq`, ordered by seq."""
        with self._guarded():
            rows = (
                self._open_conn()
                .execute(
                    "SELECT seq, doc_id, article_id, op FROM changes WHERE seq > ? ORDER BY seq",
                    (int(seq),),
                )
                .fetchall()
            )
        return [
            Change(seq=s, doc_id=d, article_id=a, op=cast(Literal["upsert", "delete"], op))
            for s, d, a, op in rows
        ]

    def net_changes(self, since: int) -> NetChanges:
        """The changes after ``since``, each article's latest one winning."""
        changes = self.changes_since(since)
        latest: dict[int, str] = {}
        for change in changes:
            latest[change.doc_id] = change.op
        return NetChanges(
            upserted=[doc for doc, op in latest.items() if op == "upsert"],
            deleted=[doc for doc, op in latest.items() if op == "delete"],
            last_seq=changes[-1].seq if changes else since,
            count=len(changes),
        )

    def live_count_at(self, seq: int) -> int:
        """Number of articles that were live just after change `seq` (0 before any change).

        An index built at `seq` should hold exactly this many vectors; `doctor` compares them.
        """
        with self._guarded():
            row = (
                self._open_conn()
                .execute(
                    "SELECT COUNT(*) FROM changes WHERE op = 'upsert' AND seq IN "
                    "(SELECT MAX(seq) FROM changes WHERE seq <= ? GROUP BY doc_id)",
                    (int(seq),),
                )
                .fetchone()
            )
        return int(row[0])

    def check(self) -> list[str]:
        """Return every problem found in the database (empty means healthy), for `doctor`.

        Checks the file's 100-byte SQLite header (which SQLite reads only in part: a damaged
        write version, say, leaves every read working and makes every write fail), runs
        SQLite's own consistency check and checks every stored vector's size against the
        catalogue's dimension; each problem names the file. On PostgreSQL, whose server keeps
        its own files whole, only the stored rows are checked.
        """
        problems = [] if self.on_postgres else _header_problems(self._path)
        with self._guarded():
            conn = self._open_conn()
            try:
                if isinstance(conn, sqlite3.Connection):
                    for (message,) in conn.execute("PRAGMA quick_check(20)").fetchall():
                        if message != "ok":
                            problems.append(f"{self._where}: damaged database ({message})")
                dim = self._read_dim(conn)
                if dim is not None:
                    bad, first = conn.execute(
                        "SELECT COUNT(*), MIN(id) FROM articles WHERE length(vector) != ?",
                        (dim * _VECTOR_DTYPE.itemsize,),
                    ).fetchone()
                    if bad:
                        problems.append(
                            f"{self._where}: {bad} stored vector(s) are not of dimension {dim} "
                            f"(first: article {first!r})"
                        )
                problems.extend(self._undecodable_rows(conn))
            except sqlite3.DatabaseError as exc:
                problems.append(f"{self._where}: damaged database ({exc})")
        return problems[:_MAX_PROBLEMS]

    def _undecodable_rows(self, conn: Connection) -> list[str]:
        # quick_check verifies the b-tree structure, not the bytes inside a row: a flipped bit
        # in a title passes it and fails only when read. Reading as bytes lets one bad row be
        # reported without aborting the scan of the others. (PostgreSQL checks text on input.)
        problems: list[str] = []
        dim = self._read_dim(conn)
        if isinstance(conn, sqlite3.Connection):
            conn.text_factory = bytes
        try:
            rows = conn.execute(f"SELECT {self._columns}, vector FROM articles ORDER BY doc_id")
            for *raw, blob in rows:
                try:
                    self._decode([v.decode("utf-8") if isinstance(v, bytes) else v for v in raw])
                    if dim is not None and len(blob) == dim * _VECTOR_DTYPE.itemsize:
                        # Stored vectors are unit length; a flipped bit in one shows as a norm
                        # far from 1 (or NaN), which would poison every list it appears in.
                        norm = float(np.linalg.norm(np.frombuffer(blob, dtype=_VECTOR_DTYPE)))
                        if not abs(norm - 1.0) < 1e-2:
                            raise CatalogueError(f"vector has norm {norm:.4g}, not 1")
                except (UnicodeDecodeError, CatalogueError) as exc:
                    problems.append(
                        f"{self._where}: stored article with doc_id {raw[0]} is damaged ({exc})"
                    )
                    if len(problems) >= _MAX_PROBLEMS:
                        break
        finally:
            if isinstance(conn, sqlite3.Connection):
                conn.text_factory = str
        return problems

    # -- writes --------------------------------------------------------------------------------

    def upsert(
        self, records: Sequence[ArticleRecord], vectors: Mapping[str, npt.NDArray[Any]]
    ) -> UpsertCounts:
        """Add or update `records` in one transaction and log a Change for each that changed.

        `vectors` must hold a float32 vector for every record that is new or whose content_hash
        changed (otherwise CatalogueError naming the id); a vector given for another record
        replaces the stored one if that record changed at all. Records equal in every field to
        the live stored article are counted unchanged and write nothing. An unpublished id that
        comes back is counted added and keeps its doc id. With duplicate ids the last one wins.
        The caller's `doc_id` field is ignored; the catalogue assigns doc ids.
        """
        self._check_writable()
        latest = {r.id: _normalise(r) for r in records}
        added = updated = unchanged = 0
        with self._guarded():
            conn = self._open_conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have stored the first vector since we opened.
                self._dim = self._read_dim(conn)
                existing = self._existing_rows(conn, list(latest))
                now = _utc_now_iso()
                # Written after the loop, a statement per table: on PostgreSQL each row would
                # otherwise be a round trip to the server.
                inserted: list[tuple[Any, ...]] = []
                rewritten: list[tuple[Any, ...]] = []
                logged: list[str] = []
                for article_id, record in latest.items():
                    old = existing.get(article_id)
                    if (
                        old is not None
                        and old.deleted_at is None
                        and old.record == replace(record, doc_id=old.record.doc_id)
                    ):
                        unchanged += 1
                        continue
                    needs_vector = old is None or old.record.content_hash != record.content_hash
                    blob = self._vector_blob(conn, article_id, vectors.get(article_id))
                    if blob is None and needs_vector:
                        raise CatalogueError(
                            f"article {article_id!r}: no vector given, but it is new or its "
                            "content_hash changed"
                        )
                    values = _column_values(record, now)
                    if old is None:
                        inserted.append((article_id, *values, blob))
                    else:
                        rewritten.append((*values, blob, old.record.doc_id))
                    logged.append(article_id)
                    if old is None or old.deleted_at is not None:
                        added += 1
                    else:
                        updated += 1
                self._write(conn, inserted, rewritten, logged, existing, now)
                crash_point("catalogue.before_commit")
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                # Dimension learnt inside the rolled-back transaction must be forgotten too.
                self._dim = self._read_dim(conn)
                raise
        return UpsertCounts(added=added, updated=updated, unchanged=unchanged)

    def unpublish(self, article_id: str) -> bool:
        """Soft-delete a live article and log it; False if unknown or already unpublished."""
        self._check_writable()
        with self._guarded():
            conn = self._open_conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = _utc_now_iso()
                row = conn.execute(
                    "UPDATE articles SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL "
                    "RETURNING doc_id",
                    (now, article_id),
                ).fetchone()
                if row is not None:
                    conn.execute(
                        "INSERT INTO changes (doc_id, article_id, op, at) "
                        "VALUES (?, ?, 'delete', ?)",
                        (int(row[0]), article_id, now),
                    )
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
        return row is not None

    # -- internals -----------------------------------------------------------------------------

    def _setup(self, conn: Connection) -> None:
        try:
            if isinstance(conn, sqlite3.Connection):
                if not self._readonly:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
            tables = table_names(conn)
        except sqlite3.DatabaseError as exc:
            raise disk_error(exc, self._path) or CatalogueError(
                f"{self._where}: not a readable SQLite database ({exc})"
            ) from exc
        if self.on_postgres and not tables & {"meta", "articles"}:
            # A PostgreSQL database may hold other applications' tables beside ours.
            tables = set()
        if not tables:
            if self._readonly:
                raise CatalogueError(f"{self._where}: empty database, not a newsrec catalogue")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the catalogue between the check and the
                # lock. Not executescript(): it COMMITs first, which would end our transaction.
                if "meta" not in table_names(conn):
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                        (str(self.SCHEMA_VERSION),),
                    )
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
        elif "meta" not in tables:
            raise CatalogueError(f"{self._where}: not a newsrec catalogue (no meta table)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0]) if row is not None else None
        except ValueError:
            version = None
        if version is None or version < 1:
            raise CatalogueError(f"{self._where}: meta table has no valid schema_version")
        if version > self.SCHEMA_VERSION:
            raise FormatVersionError(
                f"{self._where}: written by a newer newsrec "
                f"(format {version}, this version reads up to {self.SCHEMA_VERSION})"
            )
        if version < 2:
            if self._readonly:
                self._columns = _RECORD_COLUMNS_V1
            else:
                self._migrate_to_v2(conn)
        self._dim = self._read_dim(conn)

    def _migrate_to_v2(self, conn: Connection) -> None:
        try:
            migrate_schema(conn, self._where, "schema_version", 2, {2: _MIGRATE_TO_V2})
        except sqlite3.DatabaseError as exc:
            raise disk_error(exc, self._path) or CatalogueError(
                f"{self._where}: cannot migrate the catalogue to format 2 ({exc})"
            ) from exc

    def _read_dim(self, conn: Connection) -> int | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()
        return None if row is None else int(row[0])

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        # One thread at a time per connection; and an SQLite error (a damaged page, text that
        # does not decode, a full disk) becomes a CatalogueError naming the file, so that a
        # damaged catalogue is reported like any other damaged file rather than as a traceback.
        with self._lock:
            try:
                yield
            except sqlite3.DatabaseError as exc:
                raise disk_error(exc, self._path) or CatalogueError(
                    f"{self._where}: cannot read the catalogue ({exc})"
                ) from exc

    def _open_conn(self) -> Connection:
        if self._conn is None:
            raise CatalogueError(f"{self._where}: catalogue is closed")
        return self._conn

    def _check_writable(self) -> None:
        if self._readonly:
            raise CatalogueError(f"{self._where}: catalogue is opened read-only")

    def _existing_rows(self, conn: Connection, ids: list[str]) -> dict[str, _Stored]:
        out: dict[str, _Stored] = {}
        for chunk in _chunks(ids):
            rows = conn.execute(
                f"SELECT {self._columns}, deleted_at FROM articles WHERE id IN ({_marks(chunk)})",
                chunk,
            ).fetchall()
            for row in rows:
                out[row[1]] = _Stored(record=self._decode(row[:-1]), deleted_at=row[-1])
        return out

    def _vector_blob(
        self, conn: Connection, article_id: str, vector: npt.NDArray[Any] | None
    ) -> bytes | None:
        if vector is None:
            return None
        arr = np.asarray(vector)
        if arr.ndim != 1 or arr.size == 0:
            raise CatalogueError(
                f"article {article_id!r}: vector must be one-dimensional, got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.floating):
            raise CatalogueError(
                f"article {article_id!r}: vector must be floating point, got dtype {arr.dtype}"
            )
        if not np.isfinite(arr).all():
            raise CatalogueError(f"article {article_id!r}: vector contains NaN or infinity")
        if self._dim is None:
            # The first vector ever stored fixes the dimension for the catalogue's lifetime.
            self._dim = int(arr.size)
            conn.execute("INSERT INTO meta (key, value) VALUES ('dim', ?)", (str(self._dim),))
        elif arr.size != self._dim:
            raise CatalogueError(
                f"article {article_id!r}: vector has dimension {arr.size}, "
                f"catalogue {self._where} stores dimension {self._dim}"
            )
        return arr.astype(_VECTOR_DTYPE).tobytes()

    def _write(
        self,
        conn: Connection,
        inserted: list[tuple[Any, ...]],
        rewritten: list[tuple[Any, ...]],
        logged: list[str],
        existing: Mapping[str, _Stored],
        now: str,
    ) -> None:
        """Insert the new articles (doc ids handed out in their order), update the others, and
        log a change for each of ``logged`` in its order."""
        conn.executemany(
            "INSERT INTO articles (id, title, body, url, section, tags, language, "
            "published_at, published_ts, popularity, content_hash, author, kind, fields, "
            "updated_at, vector) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserted,
        )
        conn.executemany(
            "UPDATE articles SET title = ?, body = ?, url = ?, section = ?, tags = ?, "
            "language = ?, published_at = ?, published_ts = ?, popularity = ?, "
            "content_hash = ?, author = ?, kind = ?, fields = ?, updated_at = ?, "
            "vector = COALESCE(?, vector), deleted_at = NULL "
            "WHERE doc_id = ?",
            rewritten,
        )
        doc_ids = {article_id: old.record.doc_id for article_id, old in existing.items()}
        new_ids = [row[0] for row in inserted]
        for chunk in _chunks(new_ids):
            found = conn.execute(
                f"SELECT id, doc_id FROM articles WHERE id IN ({_marks(chunk)})", chunk
            )
            doc_ids.update((article_id, int(doc_id)) for article_id, doc_id in found)
        conn.executemany(
            "INSERT INTO changes (doc_id, article_id, op, at) VALUES (?, ?, 'upsert', ?)",
            [(doc_ids[article_id], article_id, now) for article_id in logged],
        )

    def _decode(self, row: Sequence[Any]) -> ArticleRecord:
        doc_id, article_id, title, body, url, section, tags, language, published = row[:9]
        pop, chash, author, kind, own_fields = row[9:]
        try:
            tag_list = json.loads(tags)
            published_at = datetime.fromisoformat(published) if published is not None else None
            field_map = json.loads(own_fields)
            if not isinstance(field_map, dict):
                raise ValueError("fields is not a JSON object")
        except ValueError as exc:
            raise CatalogueError(
                f"{self._where}: stored article {article_id!r} is damaged ({exc})"
            ) from exc
        return ArticleRecord(
            id=article_id,
            title=title,
            body=body,
            url=url,
            section=section,
            tags=tuple(tag_list),
            language=language,
            published_at=published_at,
            popularity=float(pop),
            content_hash=chash,
            doc_id=int(doc_id),
            author=author,
            kind=kind,
            fields=tuple(sorted(field_map.items())),
        )

    def _decode_vector(self, doc_id: int, blob: bytes, dim: int) -> npt.NDArray[np.float32]:
        if len(blob) != dim * _VECTOR_DTYPE.itemsize:
            raise CatalogueError(
                f"{self._where}: stored vector of doc_id {doc_id} has {len(blob)} bytes, "
                f"expected {dim * _VECTOR_DTYPE.itemsize} (dimension {dim})"
            )
        return np.frombuffer(blob, dtype=_VECTOR_DTYPE).astype(np.float32)


@dataclass(frozen=True, slots=True)
class _Stored:
    record: ArticleRecord
    deleted_at: str | None


def _normalise(record: ArticleRecord) -> ArticleRecord:
    """Validate `record` and return it in canonical form (UTC time, tuple tags, float pop)."""

    def bad(problem: str) -> CatalogueError:
        return CatalogueError(f"article {record.id!r}: {problem}")

    if not isinstance(record, ArticleRecord):
        raise CatalogueError(f"expected ArticleRecord, got {type(record).__name__}")
    if not isinstance(record.id, str) or not record.id.strip():
        raise bad("id must be a non-empty string")
    for name in ("title", "body", "content_hash"):
        if not isinstance(getattr(record, name), str):
            raise bad(f"{name} must be a string")
    if not record.content_hash:
        raise bad("content_hash must not be empty")
    for name in ("url", "section", "language", "author", "kind"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise bad(f"{name} must be a string or None")
    own_fields = _normalise_fields(record.fields, bad)
    tags = tuple(record.tags) if not isinstance(record.tags, str) else None
    if tags is None or not all(isinstance(t, str) for t in tags):
        raise bad("tags must be a sequence of strings")
    published_at = record.published_at
    if published_at is not None:
        if not isinstance(published_at, datetime):
            raise bad("published_at must be a datetime or None")
        if published_at.tzinfo is None or published_at.utcoffset() is None:
            raise bad("published_at has no time zone; give a tz-aware datetime")
        published_at = published_at.astimezone(UTC)
    popularity = record.popularity
    if isinstance(popularity, bool) or not isinstance(popularity, numbers.Real):
        raise bad(f"popularity must be a number, got {popularity!r}")
    if not math.isfinite(popularity):
        raise bad(f"popularity must be finite, got {popularity!r}")
    return replace(
        record,
        tags=tags,
        published_at=published_at,
        popularity=float(popularity),
        fields=own_fields,
    )


def _normalise_fields(
    value: object, bad: Callable[[str], CatalogueError]
) -> tuple[tuple[str, FieldValue], ...]:
    """``value`` (pairs or a mapping) as pairs sorted by name; the values must be scalars."""
    try:
        pairs = list(value.items()) if isinstance(value, Mapping) else list(value)  # type: ignore[call-overload]
        names = [name for name, _ in pairs]
    except (TypeError, ValueError) as exc:
        raise bad("fields must be (name, value) pairs or a mapping") from exc
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise bad("fields must have distinct, non-empty text names")
    for name, item in pairs:
        if not isinstance(item, str | int | float | bool) or (
            isinstance(item, float) and not math.isfinite(item)
        ):
            raise bad(f"field {name!r} must be text, a finite number or a boolean")
    return tuple(sorted(pairs))


def _column_values(record: ArticleRecord, now: str) -> tuple[Any, ...]:
    """``record``'s stored columns, ``title`` to ``updated_at`` (as :meth:`Catalogue._write`)."""
    published_at = record.published_at.isoformat() if record.published_at else None
    published_ts = record.published_at.timestamp() if record.published_at else None
    return (
        record.title,
        record.body,
        record.url,
        record.section,
        json.dumps(list(record.tags), ensure_ascii=False),
        record.language,
        published_at,
        published_ts,
        record.popularity,
        record.content_hash,
        record.author,
        record.kind,
        json.dumps(dict(record.fields), ensure_ascii=False, sort_keys=True),
        now,
    )


def _utc_now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _like_escaped(text: str) -> str:
    # LIKE's wildcards in a searched word are meant literally.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _marks(chunk: Sequence[object]) -> str:
    return ", ".join("?" * len(chunk))


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _header_problems(path: Path) -> list[str]:
    """What is wrong with the SQLite header of ``path`` (the file format's first 100 bytes)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        return [f"{path}: cannot read the file header ({exc.strerror or exc})"]
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return [f"{path}: damaged header: not an SQLite file"]
    found: list[str] = []

    def expect(offset: int, what: str, value: int, allowed: Iterable[int]) -> None:
        if value not in set(allowed):
            found.append(f"{path}: damaged header: byte {offset}, {what}, holds {value}")

    page_size = int.from_bytes(header[16:18], "big")
    expect(16, "the page size", page_size, [1, *(1 << n for n in range(9, 16))])
    # A write version above 2 makes SQLite open the file read-only: reads work, writes fail.
    expect(18, "the file format write version", header[18], [1, 2])
    expect(19, "the file format read version", header[19], [1, 2])
    expect(21, "the maximum payload fraction", header[21], [64])
    expect(22, "the minimum payload fraction", header[22], [32])
    expect(23, "the leaf payload fraction", header[23], [32])
    expect(44, "the schema format", int.from_bytes(header[44:48], "big"), range(1, 5))
    expect(56, "the text encoding", int.from_bytes(header[56:60], "big"), [1])
    if any(header[72:92]):
        found.append(f"{path}: damaged header: bytes 72-91, reserved, are not zero")
    changes, valid_for = header[24:28], header[92:96]
    pages = int.from_bytes(header[28:32], "big")
    size = page_size if page_size != 1 else 65_536
    # The page count is valid only while the two change counters agree (format spec 1.3.7);
    # the file may be longer than its pages while a WAL checkpoint is pending, never shorter
    # once the WAL is empty. A checkpoint copies the WAL's pages in page order, page 1 (this
    # header) first: one killed mid-way leaves the file short of the count it wrote, and the
    # WAL, which still holds every page, completes it at the next open.
    wal = path.with_name(path.name + "-wal")
    checkpoint_pending = wal.is_file() and wal.stat().st_size > 0
    if (
        changes == valid_for
        and pages
        and not checkpoint_pending
        and path.stat().st_size < pages * size
    ):
        found.append(
            f"{path}: damaged header: bytes 28-31 count {pages} pages of {size} bytes, "
            f"the file holds {path.stat().st_size} bytes"
        )
    return found


def _chunks(items: list[_T]) -> Iterator[list[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
