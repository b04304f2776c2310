"""Schema versions in a catalogue's ``meta`` table, and the migrations between them.

The catalogue's own tables (``schema_version``) and each group of tables beside them
(``{name}_schema``, :mod:`index.tables`) are migrated by the same rule: read the version, and
if it is behind, take the write lock, read it again (another process may have migrated the file
meanwhile) and run each step's statements in one transaction. The same table and keys serve
both backends; :func:`migrate` brings every group of a catalogue to this version's schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from index.connection import Connection, rollback
from index.errors import CatalogueError
from index.targets import CatalogueTarget, missing_table, redacted

__all__ = ["migrate", "migrate_schema", "stored_version_of"]


def migrate(target: CatalogueTarget) -> dict[str, int]:
    """Create the catalogue at ``target`` (a SQLite file or a PostgreSQL URL) if it is new,
    and bring the catalogue and every group of tables beside it to this version's schema.

    Returns:
        Each group (``catalogue``, ``events``, ``overrides``, ``feedback``) and the schema
        version it is at now.

    Raises:
        index.FormatVersionError: a newer newsrec wrote some of the tables.
        index.CatalogueUnavailable: the database cannot be reached.
        index.CatalogueError: ``target`` is not a newsrec catalogue.
    """
    # Imported here: each store imports this module for its own migrations.
    from index.catalogue import Catalogue
    from index.connection import open_connection
    from index.events import EventStore
    from index.feedback import FeedbackStore
    from index.overrides import OverrideStore

    Catalogue(target).close()
    groups = (EventStore, OverrideStore, FeedbackStore)
    for group in groups:
        group(target).close()
    conn = open_connection(target, readonly=True, timeout=30.0)
    try:
        keys = {"catalogue": "schema_version"} | {g.GROUP: f"{g.GROUP}_schema" for g in groups}
        named = redacted(target)
        versions = {name: stored_version_of(conn, named, key) or 0 for name, key in keys.items()}
    finally:
        conn.close()
    return versions


def migrate_schema(
    conn: Connection,
    path: Path | str,
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


def stored_version_of(conn: Connection, path: Path | str, key: str) -> int | None:
    """The schema version ``meta`` holds under ``key`` in the catalogue file ``conn``; None
    if it holds none.

    Raises:
        index.CatalogueError: not a newsrec catalogue, or the version is not valid.
    """
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError as exc:
        raise CatalogueError(f"{path}: not a newsrec catalogue ({exc})") from exc
    except CatalogueError as exc:
        if missing_table(exc):
            raise CatalogueError(f"{path}: not a newsrec catalogue (no meta table)") from exc
        raise
    if row is None:
        return None
    try:
        value = int(row[0])
    except ValueError:
        value = 0
    if value < 1:
        raise CatalogueError(f"{path}: meta key {key!r} holds no valid version ({row[0]!r})")
    return value
