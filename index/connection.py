"""One SQLite connection per store object, shared between threads under a lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from index.disk import disk_error, on_read_only_file_system
from index.errors import CatalogueError

__all__ = ["SQLiteFile", "connect", "rollback"]


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


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if one is still open.

    SQLite ends a transaction itself when a COMMIT fails for want of space; a ROLLBACK then
    would raise "no transaction is active" and hide the real error.
    """
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class SQLiteFile:
    """The lifecycle shared by the catalogue and the tables kept beside it.

    Subclasses set ``_path``, ``_lock`` and ``_conn`` in their constructor.
    """

    _path: Path
    _lock: threading.Lock | threading.RLock
    _conn: sqlite3.Connection | None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

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
