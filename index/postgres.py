"""PostgreSQL as the catalogue's database: the one adapter between the stores' SQL and psycopg.

The stores write their SQL once, in SQLite's dialect with ``?`` placeholders, and talk to a
connection with the few methods of :class:`sqlite3.Connection` they use. :class:`PgConnection`
offers those methods over a PostgreSQL database, translating on the way:

- ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``);
- ``BEGIN IMMEDIATE`` (a write transaction) becomes ``BEGIN`` and a transaction-scoped advisory
  lock, so that writers take turns as they do on SQLite: a row's identity value (a ``seq``) is
  drawn inside the lock and committed before the next writer draws one, so rows commit in
  ``seq`` order and a follower reading ``seq > last`` never skips one committed late. The lock
  is the table group's (the catalogue's, the events', ...), so that a long ingest does not hold
  up the events that serving replicas record meanwhile;
- a plain ``BEGIN`` (a read of several statements) becomes a ``REPEATABLE READ`` transaction,
  one snapshot as on SQLite;
- ``LIKE`` becomes ``ILIKE``: SQLite's ``LIKE`` ignores case;
- in ``CREATE``/``ALTER TABLE``: ``INTEGER PRIMARY KEY AUTOINCREMENT`` becomes an identity
  column (never reusing a value), ``INTEGER`` ``BIGINT``, ``REAL`` ``DOUBLE PRECISION`` and
  ``BLOB`` ``BYTEA``.

Connections come from one :class:`psycopg_pool.ConnectionPool` per URL in the process. A
statement outside a transaction borrows one for itself; a transaction holds one from ``BEGIN``
to ``COMMIT`` or ``ROLLBACK``. A database that cannot be reached raises
:class:`~index.errors.CatalogueUnavailable`, fast (a refused connection is not waited out), and
the next call tries again: nothing has to be reopened when the server is back. Every message
names the URL without its password.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg_pool

from index.errors import CatalogueError, CatalogueUnavailable

__all__ = [
    "WRITE_LOCK_KEYS",
    "CatalogueTarget",
    "PgConnection",
    "close_pools",
    "is_database_url",
    "missing_table",
    "redacted",
    "translate",
    "unavailable",
]

#: Where a catalogue lives: a SQLite file, or a PostgreSQL URL.
CatalogueTarget = Path | str

_SCHEMES = ("postgresql://", "postgres://")
# The transaction-scoped advisory lock a write transaction takes, one per table group ("newsrec"
# and a number); the writer lock (index.locking.DatabaseLock) uses 2, held for a whole job.
WRITE_LOCK_KEYS = {
    "catalogue": 0x6E65777372656301,
    "events": 0x6E65777372656303,
    "overrides": 0x6E65777372656304,
    "feedback": 0x6E65777372656305,
}
# As SQLite's busy timeout: a writer waits this long for another's transaction, then fails.
_LOCK_TIMEOUT_MS = 30_000
_CONNECT_TIMEOUT_S = 2  # libpq's smallest useful value
_POOL_WAIT_S = 10.0  # for a free connection when all are busy
_POOL_MAX = 10
# SQLSTATE classes and codes that mean the server is not there (not that a statement is wrong).
_UNAVAILABLE_CLASSES = ("08",)  # connection exception
_UNAVAILABLE_CODES = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, starting, too many
_UNDEFINED_TABLE = "42P01"


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (a str starting ``postgresql://`` or
    ``postgres://``) rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(_SCHEMES)


def redacted(url: str | Path) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter), for
    messages and logs; a path (a SQLite file) as it is."""
    if not is_database_url(url):
        return str(url)
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = user.split(":", 1)[0] + "@" + host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class _StatementError(CatalogueError):
    """A statement failed on PostgreSQL; ``sqlstate`` is the server's error code."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def missing_table(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL saying a table does not exist."""
    return isinstance(exc, _StatementError) and exc.sqlstate == _UNDEFINED_TABLE


def unavailable(where: str, exc: BaseException) -> CatalogueUnavailable:
    """The error for a database that cannot be reached, on one line."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return CatalogueUnavailable(
        f"{where}: the catalogue database is unavailable ({reason}); "
        "retry when it is back (newsrec reconnects by itself)"
    )


def _is_connection_failure(exc: psycopg.Error, conn: psycopg.Connection[Any] | None) -> bool:
    if conn is not None and (conn.broken or conn.closed):
        return True
    state = exc.sqlstate
    if state is None:
        # Raised by libpq, not the server: the connection failed or was lost.
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_CODES


def _mapped(where: str, exc: psycopg.Error, conn: psycopg.Connection[Any] | None) -> Exception:
    if _is_connection_failure(exc, conn):
        return unavailable(where, exc)
    reason = " ".join(str(exc).split())
    return _StatementError(f"{where}: database error ({reason})", exc.sqlstate)


# --- SQL translation -------------------------------------------------------------------------

_DDL = re.compile(r"^\s*(CREATE|ALTER)\s+TABLE\b", re.IGNORECASE)
_DDL_TYPES = (
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
)
_LIKE = re.compile(r"\bLIKE\b", re.IGNORECASE)


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """``sql`` (SQLite's dialect, ``?`` placeholders) as PostgreSQL runs it, with ``%s``
    placeholders for psycopg. Text inside quotes is left as it is (but for ``%``, doubled)."""
    ddl = bool(_DDL.match(_without_comments(sql)))
    out: list[str] = []
    for quoted, part in _split_quoted(_without_comments(sql)):
        if quoted:
            out.append(part.replace("%", "%%"))
            continue
        part = part.replace("%", "%%").replace("?", "%s")
        part = _LIKE.sub("ILIKE", part)
        if ddl:
            for pattern, replacement in _DDL_TYPES:
                part = pattern.sub(replacement, part)
        out.append(part)
    return "".join(out)


def _without_comments(sql: str) -> str:
    return "".join(
        part if quoted else re.sub(r"--[^\n]*", "", part) for quoted, part in _split_quoted(sql)
    )


def _split_quoted(sql: str) -> Iterator[tuple[bool, str]]:
    """``sql`` cut into (inside single or double quotes?, text) parts, in order."""
    start = 0
    for match in re.finditer(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", sql):
        if match.start() > start:
            yield False, sql[start : match.start()]
        yield True, match.group(0)
        start = match.end()
    if start < len(sql):
        yield False, sql[start:]


# --- pools -----------------------------------------------------------------------------------


class _Pool:
    """The pool of one URL in this process, dropped when the server is found unreachable and
    made again once it answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = redacted(url)
        self._lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] | None = None

    def borrow(self) -> tuple[psycopg_pool.ConnectionPool[Any], psycopg.Connection[Any]]:
        """A connection that answers, and the pool to give it back to.

        Raises:
            CatalogueUnavailable: the database cannot be reached.
        """
        # Twice: an idle connection may have died with a server restarted since; the second
        # try starts from a new pool, or fails at once if the server is still away.
        for _ in range(2):
            pool = self._current()
            try:
                conn = pool.getconn()
            except psycopg_pool.PoolTimeout as exc:
                raise unavailable(self.where, exc) from exc
            except psycopg_pool.PoolClosed:
                continue  # another thread dropped it meanwhile
            try:
                conn.execute("")  # one round trip: is it still connected?
            except psycopg.Error:
                pool.putconn(conn)
                self.failed(pool)
                continue
            return pool, conn
        raise unavailable(self.where, ConnectionError("new connections fail at once"))

    def failed(self, pool: psycopg_pool.ConnectionPool[Any] | None = None) -> None:
        """Drop the pool (``pool``, if still the current one): the server was unreachable.
        The next borrow tries the server directly before making a new one."""
        with self._lock:
            if self._pool is None or (pool is not None and pool is not self._pool):
                return
            old, self._pool = self._pool, None
        # Connections in use stay open until given back. Its worker may be inside a
        # connection attempt: not waited for here.
        threading.Thread(target=old.close, daemon=True).start()

    def close(self) -> None:
        with self._lock:
            old, self._pool = self._pool, None
        if old is not None:
            old.close(timeout=_CONNECT_TIMEOUT_S + 1)

    def _current(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[Any]]:
        with self._lock:
            if self._pool is None:
                # A direct attempt first: a refused or unknown host fails at once, with
                # libpq's reason, rather than after the pool's wait for a connection.
                try:
                    psycopg.connect(self.url, connect_timeout=_CONNECT_TIMEOUT_S).close()
                except psycopg.Error as exc:
                    raise unavailable(self.where, exc) from exc
                self._pool = self._new_pool()
            return self._pool

    def _new_pool(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[Any]]:
        return psycopg_pool.ConnectionPool(
            self.url,
            min_size=1,
            max_size=_POOL_MAX,
            open=True,
            timeout=_POOL_WAIT_S,
            kwargs={
                "autocommit": True,
                "connect_timeout": _CONNECT_TIMEOUT_S,
                "application_name": f"newsrec pid {os.getpid()}",
                "options": f"-c lock_timeout={_LOCK_TIMEOUT_MS}",
                # A server that vanished without closing the socket is noticed within ~20 s.
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 2,
            },
            num_workers=1,
            name=self.where,
        )


_POOLS: dict[tuple[int, str], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(url: str) -> _Pool:
    # By process too: a pool's connections and threads must not cross a fork.
    key = (os.getpid(), url)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = _Pool(url)
        return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pool of ``url`` (of every URL if None); it is made again when
    next needed. Tests call it before dropping a database."""
    with _POOLS_LOCK:
        keys = [k for k in _POOLS if url is None or k[1] == url]
        pools = [_POOLS.pop(k) for k in keys]
    for pool in pools:
        pool.close()


atexit.register(close_pools)


# --- the connection ----------------------------------------------------------------------------


class _Rows:
    """A statement's result, read whole: what sqlite3's cursor offers the stores."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row


_Call = Callable[[psycopg.Cursor[Any]], object]


def _statement(sql: str) -> _Call:
    return lambda cur: cur.execute(sql)


class PgConnection:
    """The subset of :class:`sqlite3.Connection` the stores use, over a PostgreSQL database.

    Not safe for concurrent use by several threads: each store serialises its calls under its
    own lock, as it does for its SQLite connection.
    """

    def __init__(self, url: str, *, groups: Sequence[str] = ("catalogue",)) -> None:
        """A connection to the database ``url``; nothing is opened until the first statement.
        Its write transactions take the lock of each of the table ``groups`` it writes
        (:data:`WRITE_LOCK_KEYS`).

        Raises:
            CatalogueError: ``url`` is not a PostgreSQL URL.
        """
        if not is_database_url(url):
            raise CatalogueError(f"{redacted(url)!r}: not a PostgreSQL URL (postgresql://...)")
        # A group without a key of its own takes the catalogue's: coarser, never wrong. Always
        # in the same order, so that two connections cannot each wait for the other.
        keys = sorted({WRITE_LOCK_KEYS.get(g, WRITE_LOCK_KEYS["catalogue"]) for g in groups})
        self._take_locks = [f"SELECT pg_advisory_xact_lock({key})" for key in keys]
        self._url = url
        self._held: tuple[psycopg_pool.ConnectionPool[Any], psycopg.Connection[Any]] | None = None
        self._closed = False

    @property
    def where(self) -> str:
        """The URL without its password."""
        return self._pool.where

    @property
    def _pool(self) -> _Pool:
        # Looked up each time: a process forked after this object was made gets its own.
        return _pool_for(self._url)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (from ``BEGIN`` to ``COMMIT``/``ROLLBACK``)."""
        return self._held is not None

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> _Rows:
        """Run one statement; its rows are read whole.

        Raises:
            CatalogueUnavailable: the database cannot be reached.
            CatalogueError: the statement failed.
        """
        word = sql.strip().upper()
        if word in ("BEGIN IMMEDIATE", "BEGIN"):
            self._begin(write=word == "BEGIN IMMEDIATE")
            return _Rows([], -1)
        if word in ("COMMIT", "ROLLBACK"):
            self._end(word)
            return _Rows([], -1)
        return self._run(lambda cur: cur.execute(translate(sql), tuple(parameters)))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> _Rows:
        """Run one statement for each of ``parameters``; ``rowcount`` is the sum.

        Raises:
            CatalogueUnavailable: the database cannot be reached.
            CatalogueError: a statement failed.
        """
        rows = [tuple(p) for p in parameters]
        return self._run(lambda cur: cur.executemany(translate(sql), rows))

    def close(self) -> None:
        """Roll back any open transaction and give its connection back. Idempotent."""
        if self._held is not None:
            self._end("ROLLBACK")
        self._closed = True

    def _run(self, call: _Call) -> _Rows:
        if self._closed:
            raise CatalogueError(f"{self.where}: connection is closed")
        if self._held is not None:
            return self._on(self._held[1], call)
        pool, conn = self._pool.borrow()
        try:
            return self._on(conn, call)
        finally:
            pool.putconn(conn)

    def _on(self, conn: psycopg.Connection[Any], call: _Call) -> _Rows:
        try:
            with conn.cursor() as cur:
                call(cur)
                rows = cur.fetchall() if cur.description is not None else []
                return _Rows(rows, cur.rowcount)
        except psycopg.Error as exc:
            error = _mapped(self.where, exc, conn)
            if isinstance(error, CatalogueUnavailable):
                self._pool.failed()
            raise error from exc

    def _begin(self, *, write: bool) -> None:
        if self._closed:
            raise CatalogueError(f"{self.where}: connection is closed")
        if self._held is not None:
            raise CatalogueError(f"{self.where}: a transaction is already open")
        pool, conn = self._pool.borrow()
        self._held = (pool, conn)
        try:
            if write:
                self._on(conn, _statement("BEGIN"))
                for take in self._take_locks:
                    self._on(conn, _statement(take))
            else:
                self._on(conn, _statement("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        except BaseException:
            self._end("ROLLBACK")
            raise

    def _end(self, word: str) -> None:
        if self._held is None:
            raise CatalogueError(f"{self.where}: no transaction is open to {word.lower()}")
        pool, conn = self._held
        try:
            if word == "COMMIT":
                self._on(conn, _statement("COMMIT"))
            elif not (conn.broken or conn.closed):
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    # The connection died meanwhile: the server rolls back by itself, and the
                    # error that made the caller roll back is the one to report.
                    self._pool.failed()
        finally:
            self._held = None
            pool.putconn(conn)
