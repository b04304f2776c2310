"""One SQLite connection per store object, shared between threads under a lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["SQLiteFile"]


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
