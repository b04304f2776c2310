"""One database connection per store object, shared between threads under a lock.

A store's connection is a SQLite file's (:mod:`sqlite3`) or a PostgreSQL database's
(:class:`index.postgres.PgConnection`), chosen by the store's target: a path or a URL. Both
offer the same few methods (:class:`Connection`), so the stores' SQL is written once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from index.disk import disk_error, on_read_only_file_system
from index.errors import CatalogueError
from index.targets import CatalogueTarget, is_database_url, redacted

__all__ = [
    "CatalogueDatabase",
    "Connection",
    "Cursor",
    "column_names",
    "connect",
    "on_postgres",
    "open_connection",
    "rollback",
    "table_names",
]


class Cursor(Protocol):
    """What the stores read from a statement's result."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed (summed over ``executemany``)."""
        ...

    def fetchone(self) -> Any:
        """The next row, or None."""
        ...

    def fetchall(self) -> list[Any]:
        """The rows left."""
        ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The subset of :class:`sqlite3.Connection` the stores use (autocommit mode; transactions
    opened with ``BEGIN IMMEDIATE`` for writes, ``BEGIN`` for a multi-statement read)."""

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor:
        """Run one statement."""
        ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        """Run one statement per parameter row."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


def open_connection(
    target: CatalogueTarget,
    *,
    readonly: bool,
    timeout: float,
    groups: Sequence[str] = ("catalogue",),
) -> Connection:
    """A connection to the catalogue at ``target``: a PostgreSQL URL, or a SQLite file (see
    :func:`connect`). On PostgreSQL, its write transactions take turns with the other writers
    of the table ``groups`` it writes (SQLite has one writer at a time anyway).

    Raises:
        CatalogueError: the file cannot be opened.
    """
    if is_database_url(target):
        # Imported here: psycopg and libpq load only for a home on PostgreSQL (index/targets.py).
        from index.postgres import PgConnection

        return PgConnection(str(target), groups=groups)
    return connect(Path(target), readonly=readonly, timeout=timeout)


def on_postgres(conn: Connection) -> bool:
    """Whether ``conn`` is a PostgreSQL database's (else a SQLite file's)."""
    # Every connection that is not sqlite3's is index.postgres's: asking so spares SQLite homes
    # the import of psycopg that isinstance(conn, PgConnection) would need.
    return not isinstance(conn, sqlite3.Connection)


def table_names(conn: Connection) -> set[str]:
    """The tables in the catalogue's database."""
    rows: Cursor
    if on_postgres(conn):
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    else:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r[0]) for r in rows}


def connect(path: Path, *, readonly: bool, timeout: float) -> sqlite3.Connection:
    """A connection to the database file ``path``, in autocommit mode, usable from any thread.

    Read-only, a database in WAL mode needs its ``-shm`` file, which SQLite cannot create on a
    file system mounted read-only; there, with no write-ahead log left to read, the file is
    opened as immutable (nothing can change it while the mount is read-only) instead of
    failing as if it were damaged.

    Raises:
        CatalogueError: the file cannot be opened.
    """
    try:
        if readonly:
            uri = path.resolve().as_uri()
            conn = sqlite3.connect(
                uri + "?mode=ro", uri=True, timeout=timeout, check_same_thread=False
            )
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # Any other failure is left for the caller's first query to report.
                wal = path.with_name(path.name + "-wal")
                if on_read_only_file_system(path) and not (wal.exists() and wal.stat().st_size):
                    conn.close()
                    conn = sqlite3.connect(
                        uri + "?mode=ro&immutable=1",
                        uri=True,
                        timeout=timeout,
                        check_same_thread=False,
                    )
            except sqlite3.DatabaseError:
                pass
        else:
            conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
    except sqlite3.Error as exc:
        raise disk_error(exc, path) or CatalogueError(
            f"{path}: cannot open catalogue ({exc})"
        ) from exc
    conn.isolation_level = None
    return conn


def rollback(conn: Connection) -> None:
    """Roll back the open transaction, if one is still open.

    SQLite ends a transaction itself when a COMMIT fails for want of space; a ROLLBACK then
    would raise "no transaction is active" and hide the real error.
    """
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def column_names(conn: Connection, table: str) -> list[str]:
    """The columns of ``table`` in the catalogue's database, in their order; [] if there is no
    such table."""
    if on_postgres(conn):
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        return [str(r[0]) for r in rows]
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


class CatalogueDatabase:
    """The lifecycle shared by the catalogue and the tables kept beside it, on either backend.

    Subclasses call :meth:`_set_target` and set ``_lock`` and ``_conn`` in their constructor.
    """

    _target: CatalogueTarget
    _path: Path  # the SQLite file; on PostgreSQL, only the readable name as a path
    _where: str  # the file, or the URL without its password: what messages name
    _lock: threading.Lock | threading.RLock
    _conn: Connection | None

    def _set_target(self, target: CatalogueTarget) -> None:
        self._target = str(target) if is_database_url(target) else Path(target)
        self._where = redacted(self._target)
        self._path = Path(self._where)

    @property
    def on_postgres(self) -> bool:
        """Whether the catalogue is a PostgreSQL database (not a SQLite file)."""
        return isinstance(self._target, str)

    @property
    def target(self) -> CatalogueTarget:
        """Where the catalogue is, as given: the SQLite file or the PostgreSQL URL (with its
        password): what to open the other stores of the same catalogue with."""
        return self._target

    @property
    def path(self) -> Path | str:
        """The SQLite file; for PostgreSQL, the URL without its password (for messages)."""
        return self._target if isinstance(self._target, Path) else self._where

    def close(self) -> None:
        """Close the connection; further use raises ``CatalogueError``. Idempotent."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
