"""Versioned tables kept in the catalogue's database, beside the articles.

Reading events and editorial overrides live in the same database as the catalogue (its SQLite
file, or its PostgreSQL database), so one place holds everything a home knows about its
articles and one backup copies it all. Each group of tables records its own schema version in
the catalogue's ``meta`` table, under its own key, and tables written by a newer newsrec are
refused rather than misread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from index.catalogue import Catalogue
from index.connection import (
    CatalogueDatabase,
    Connection,
    on_postgres,
    open_connection,
    rollback,
)
from index.disk import disk_error
from index.errors import CatalogueError, FormatVersionError
from index.migration import migrate_schema, stored_version_of
from index.targets import CatalogueTarget, is_database_url, redacted

__all__ = ["CatalogueTables", "connect_beside_catalogue", "stored_version"]

_BUSY_TIMEOUT_S = 30.0


def connect_beside_catalogue(
    path: CatalogueTarget,
    *,
    name: str,
    version: int,
    schema: str,
    readonly: bool = False,
    migrations: Mapping[int, tuple[str, ...]] | None = None,
) -> Connection:
    """Open the catalogue at ``path`` and make sure the tables of ``name`` exist.

    Args:
        path: the catalogue's database file or PostgreSQL URL; a catalogue is created there
            if there is none.
        name: the table group, e.g. ``"events"``; its version is kept under ``<name>_schema``.
        version: the schema version this code writes and reads.
        schema: ``CREATE TABLE`` / ``CREATE INDEX`` statements separated by ``;``.
        readonly: open without creating or writing anything (older tables are left as they
            are: the caller reads them as their version allows).
        migrations: for each version above 1, the statements that bring the tables from the
            version before to it; tables of an older version are migrated in place when
            opened for writing.

    Raises:
        FormatVersionError: the tables were written by a newer newsrec.
        CatalogueError: the file is not a newsrec catalogue or cannot be opened.
    """
    path = path if is_database_url(path) else Path(path)
    if not readonly:
        # The catalogue creates the file and its meta table; doing it here first would leave a
        # file the catalogue refuses as "not a newsrec catalogue".
        Catalogue(path).close()
    conn = open_connection(path, readonly=readonly, timeout=_BUSY_TIMEOUT_S, groups=(name,))
    named = redacted(path)
    try:
        if not on_postgres(conn):
            conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        _ensure_tables(conn, named, name, version, schema, readonly)
        if not readonly:
            migrate_schema(conn, named, f"{name}_schema", version, migrations or {})
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise disk_error(exc, Path(path)) or CatalogueError(
            f"{named}: cannot set up the {name} tables ({exc})"
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_tables(
    conn: Connection, path: str, name: str, version: int, schema: str, readonly: bool
) -> None:
    key = f"{name}_schema"
    stored = stored_version_of(conn, path, key)
    if stored is None and not readonly:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created them between the check and the lock.
            if stored_version_of(conn, path, key) is None:
                for statement in schema.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, str(version)))
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        stored = stored_version_of(conn, path, key)
    if stored is None:
        raise CatalogueError(f"{path}: has no {name} tables (opened read-only)")
    if stored > version:
        raise FormatVersionError(
            f"{path}: {name} tables written by a newer newsrec "
            f"(format {stored}, this version reads up to {version})"
        )


def stored_version(conn: Connection, path: Path | str, name: str) -> int:
    """The schema version of the ``name`` tables in the open catalogue ``conn``.

    Raises:
        CatalogueError: the file has no such tables.
    """
    found = stored_version_of(conn, path, f"{name}_schema")
    if found is None:
        raise CatalogueError(f"{path}: has no {name} tables")
    return found


class CatalogueTables(CatalogueDatabase):
    """A group of tables in the catalogue's database, with its own schema version.

    Subclasses name the group (``GROUP``), its version and its ``CREATE`` statements.
    """

    GROUP: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]
    SCHEMA: ClassVar[str]
    #: Statements from each version to the next, by the version they reach (none: version 1).
    MIGRATIONS: ClassVar[Mapping[int, tuple[str, ...]]] = {}

    def __init__(self, catalogue_path: CatalogueTarget, *, readonly: bool = False) -> None:
        """Open the group's tables in the catalogue at ``catalogue_path``, a SQLite file or a
        PostgreSQL URL (creating them).

        Raises:
            index.FormatVersionError: a newer newsrec wrote the tables.
            index.CatalogueUnavailable: the PostgreSQL database cannot be reached.
            index.CatalogueError: the file is not a newsrec catalogue.
        """
        self._set_target(catalogue_path)
        self._readonly = readonly
        self._lock = threading.Lock()
        self._conn = connect_beside_catalogue(
            self._target,
            name=self.GROUP,
            version=self.SCHEMA_VERSION,
            schema=self.SCHEMA,
            readonly=readonly,
            migrations=self.MIGRATIONS,
        )

    def _open(self) -> Connection:
        """The open connection.

        Raises:
            index.CatalogueError: the tables were closed.
        """
        if self._conn is None:
            raise CatalogueError(f"{self._where}: the {self.GROUP} tables are closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` to ``COMMIT``, rolled back on any error)
        under this object's lock; a full or read-only disk is raised as
        :class:`index.DiskError` naming the file."""
        with self._lock:
            conn = self._open()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    rollback(conn)
                    raise
            except sqlite3.DatabaseError as exc:
                error = disk_error(exc, self._path)
                if error is None:
                    raise
                raise error from exc
