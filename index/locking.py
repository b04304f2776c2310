"""The single-writer lock that keeps two ingest/reindex jobs from writing at once.

On one machine it is a file lock in the home (:class:`WriterLock`); with the catalogue in
PostgreSQL, where the writers may run on several machines, it is an advisory lock in the
catalogue's database (:class:`DatabaseLock`). Both raise :class:`LockedError` naming the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from index.errors import LockedError
from index.targets import is_database_url, redacted, unavailable

if TYPE_CHECKING:
    import psycopg

__all__ = ["LOCK_NAME", "DatabaseLock", "WriterLock"]

LOCK_NAME = "writer.lock"
_POLL_SECONDS = 0.05
# The writer lock's advisory key ("newsrec" and 2); write transactions take another (1), for a
# moment each: a job holding this one must not stop the serving replicas' event writes.
_DATABASE_LOCK_KEY = 0x6E65777372656302
_CONNECT_TIMEOUT_S = 2


class WriterLock:
    """Exclusive advisory lock (fcntl.flock) on HOME/writer.lock, used as a context manager.

    The kernel releases the lock when the holder exits or crashes, so a stale lock file never
    blocks anyone; the pid and purpose written into it only serve the error message.
    The lock is per open file, so taking it twice in one process also fails with LockedError.
    """

    def __init__(self, home: Path, wait: float = 0.0, purpose: str = "") -> None:
        """Prepare to lock `home`; wait up to `wait` seconds for another holder to finish."""
        if not wait >= 0:  # also rejects NaN
            raise ValueError(f"wait must be a non-negative number of seconds, got {wait!r}")
        self._home = Path(home)
        self._wait = float(wait)
        self._purpose = purpose
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._home / LOCK_NAME

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def __enter__(self) -> WriterLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: this WriterLock is already held")
        self._home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            self._record_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Clear the holder details first so that nobody reads them after we let go.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockedError(self._held_message(fd)) from None
                time.sleep(min(_POLL_SECONDS, remaining))

    def _record_holder(self, fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "purpose": self._purpose,
            "command": " ".join(sys.argv)[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)

    def _held_message(self, fd: int) -> str:
        try:
            holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
            pid = int(holder["pid"])
            what = str(holder.get("purpose") or holder.get("command") or "unknown job")
            who = f"pid {pid}, {what!r}"
        except (OSError, ValueError, KeyError, TypeError):
            # The holder may be between taking the lock and writing its details.
            who = "pid unknown"
        return (
            f"another newsrec job ({who}) is writing to {self._home}; "
            "wait for it to finish or retry"
        )


class DatabaseLock:
    """Exclusive session advisory lock in the PostgreSQL database ``url``, used as a context
    manager, for writers that may run on several machines.

    The lock lives as long as its own connection: the server releases it when the holder exits,
    crashes or loses its connection, so a dead job never blocks anyone. The holder is named by
    its connection's ``application_name`` (``newsrec <purpose> pid <pid>``), which the error
    message reads back. Two objects in one process are two holders: the second one fails.
    """

    def __init__(self, url: str, wait: float = 0.0, purpose: str = "") -> None:
        """Prepare to lock the database ``url``; wait up to ``wait`` seconds for another holder.

        Raises:
            ValueError: ``url`` is not a PostgreSQL URL, or ``wait`` is negative.
        """
        if not is_database_url(url):
            raise ValueError(f"not a PostgreSQL URL (postgresql://...): {redacted(str(url))!r}")
        if not wait >= 0:  # also rejects NaN
            raise ValueError(f"wait must be a non-negative number of seconds, got {wait!r}")
        self._url = url
        self._wait = float(wait)
        self._purpose = purpose
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def url(self) -> str:
        """The database, without its password."""
        return redacted(self._url)

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._conn is not None

    def __enter__(self) -> DatabaseLock:
        """Take the lock.

        Raises:
            LockedError: another job held it for longer than ``wait``.
            index.CatalogueUnavailable: the database cannot be reached.
        """
        if self._conn is not None:
            raise RuntimeError(f"{self.url}: this DatabaseLock is already held")
        # Imported here: psycopg and libpq load only where a lock in PostgreSQL is taken.
        import psycopg

        # libpq cuts application_name at 63 bytes.
        name = f"newsrec {self._purpose} pid {os.getpid()}".replace("  ", " ")
        try:
            conn = psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_S,
                application_name=name[:63],
            )
        except psycopg.Error as exc:
            raise unavailable(self.url, exc) from exc
        try:
            self._acquire(conn)
        except psycopg.Error as exc:
            conn.close()
            raise unavailable(self.url, exc) from exc
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        import psycopg  # loaded by __enter__ already

        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_DATABASE_LOCK_KEY,))
        except psycopg.Error:
            pass  # the connection is gone, and the lock with it
        finally:
            conn.close()

    def _acquire(self, conn: psycopg.Connection[Any]) -> None:
        deadline = time.monotonic() + self._wait
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_DATABASE_LOCK_KEY,)).fetchone()
            if row is not None and row[0]:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockedError(self._held_message(conn))
            time.sleep(min(_POLL_SECONDS, remaining))

    def _held_message(self, conn: psycopg.Connection[Any]) -> str:
        # pg_locks shows a bigint advisory key as two oids, high and low 32 bits.
        row = conn.execute(
            "SELECT a.application_name, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (_DATABASE_LOCK_KEY >> 32, _DATABASE_LOCK_KEY & 0xFFFFFFFF),
        ).fetchone()
        # The holder may have let go between the attempt and this query.
        who = repr(row[0]) if row is not None and row[0] else "unknown job"
        return (
            f"another newsrec job ({who}) is writing to {self.url}; wait for it to finish or retry"
        )
