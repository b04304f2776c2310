"""Schema versions in a catalogue file's ``meta`` table, and the migrations between them.

The catalogue's own tables (``schema_version``) and each group of tables beside them
(``{name}_schema``, :mod:`index.tables`) are migrated by the same rule: read the version, and
if it is behind, take the write lock, read it again (another process may have migrated the file
meanwhile) and run each step's statements in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from index.connection import rollback
from index.errors import CatalogueError

__all__ = ["migrate_schema", "stored_version_of"]


def migrate_schema(
    conn: sqlite3.Connection,
    path: Path,
    key: str,
    version: int,
    migrations: Mapping[int, tuple[str, ...]],
) -> None:
    """Bring the schema whose version ``meta`` holds under ``key`` up to ``version``, running
    ``migrations[v]`` for each version ``v`` passed, in one transaction; nothing if it is there.

    Raises:
        index.CatalogueError: ``conn`` is not a newsrec catalogue.
        sqlite3.DatabaseError: a statement failed (the transaction is rolled back).
    """
    stored = stored_version_of(conn, path, key)
    if stored is None or stored >= version:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated the tables between the check and the lock.
        stored = stored_version_of(conn, path, key)
        if stored is not None and stored < version:
            for step in range(stored + 1, version + 1):
                for statement in migrations[step]:
                    conn.execute(statement)
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(version), key))
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def stored_version_of(conn: sqlite3.Connection, path: Path, key: str) -> int | None:
    """The schema version ``meta`` holds under ``key`` in the catalogue file ``conn``; None
    if it holds none.

    Raises:
        index.CatalogueError: not a newsrec catalogue, or the version is not valid.
    """
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError as exc:
        raise CatalogueError(f"{path}: not a newsrec catalogue ({exc})") from exc
    if row is None:
        return None
    try:
        value = int(row[0])
    except ValueError:
        value = 0
    if value < 1:
        raise CatalogueError(f"{path}: meta key {key!r} holds no valid version ({row[0]!r})")
    return value
