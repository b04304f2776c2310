"""Copying a whole catalogue between backends: a SQLite file to PostgreSQL and back.

Everything a home knows about its articles is copied as it is: articles with their doc ids
(vector indexes refer to them) and vectors, the change log and the events with their seqs
(followers and folded counters refer to them), overrides with their audit trail, feedback and
the ``meta`` values (the vector dimension, the overrides' revision). Each id counter is set at
least as far as the source's, so that no id is ever handed out twice.

The copy is one transaction on the destination. Before it commits, every table is read back
from the destination and compared with what was read from the source, row count and a SHA-256
over the rows in key order in a canonical text form; any difference rolls it all back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from index.catalogue import Catalogue
from index.connection import Connection, column_names, on_postgres, open_connection, rollback
from index.errors import CatalogueError
from index.events import EventStore
from index.feedback import FeedbackStore
from index.migration import migrate, stored_version_of
from index.overrides import OverrideStore
from index.targets import CatalogueTarget, redacted

__all__ = ["TABLES", "CopyReport", "copy_catalogue"]

#: Each table copied and its key; those with an id counter (AUTOINCREMENT) first, meta last.
TABLES: tuple[tuple[str, str], ...] = (
    ("articles", "doc_id"),
    ("changes", "seq"),
    ("events", "seq"),
    ("overrides", "id"),
    ("feedback", "seq"),
    ("meta", "key"),
)
_COUNTED = tuple(table for table, key in TABLES if key != "key")
_GROUPS = ("catalogue", "events", "overrides", "feedback")
_BATCH = 2_000
_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What :func:`copy_catalogue` copied: per table, the rows and their checksum (equal on
    both sides, or the copy would have been rolled back)."""

    source: str  # without any password
    destination: str
    counts: dict[str, int]
    checksums: dict[str, str]  # hex SHA-256 over the rows in key order


def copy_catalogue(src: CatalogueTarget, dest: CatalogueTarget) -> CopyReport:
    """Copy the catalogue at ``src`` into ``dest`` (each a SQLite file or a PostgreSQL URL),
    creating the destination's tables; ``src`` is only read.

    Raises:
        CatalogueError: ``src`` is not a newsrec catalogue at this version's schema (run
            ``newsrec migrate`` on it first), ``dest`` already holds articles or other rows,
            or the destination does not read back as the source was read (nothing is kept).
        index.CatalogueUnavailable: a database cannot be reached.
    """
    source, destination = redacted(src), redacted(dest)
    if source == destination:
        raise CatalogueError(f"{source}: cannot copy a catalogue onto itself")
    Catalogue(src, readonly=True).close()  # refuses what is not a catalogue
    migrate(dest)
    reader = open_connection(src, readonly=True, timeout=_TIMEOUT_S)
    writer = open_connection(dest, readonly=False, timeout=_TIMEOUT_S, groups=_GROUPS)
    try:
        _check_versions(reader, source)
        reader.execute("BEGIN")  # one snapshot of the source
        writer.execute("BEGIN IMMEDIATE")
        try:
            counts, checksums = _copy_all(reader, writer, destination)
            writer.execute("COMMIT")
        finally:
            rollback(writer)
            rollback(reader)
    finally:
        writer.close()
        reader.close()
    return CopyReport(source, destination, counts, checksums)


def _copy_all(
    reader: Connection, writer: Connection, destination: str
) -> tuple[dict[str, int], dict[str, str]]:
    for table in _COUNTED:
        if writer.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]:
            raise CatalogueError(
                f"{destination}: already holds {table}; copy into an empty catalogue"
            )
    counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    mismatched: list[str] = []
    for table, key in TABLES:
        columns = column_names(writer, table)
        source_columns = column_names(reader, table)
        if source_columns and sorted(source_columns) != sorted(columns):
            raise CatalogueError(
                f"{destination}: table {table} has columns {sorted(columns)}, the source "
                f"{sorted(source_columns)}"
            )
        copied = _Digest()
        keys: set[Any] = set()
        if source_columns:
            for rows in _batches(reader, table, key, columns):
                copied.add(columns, rows)
                keys.update(row[columns.index(key)] for row in rows)
                _insert(writer, table, columns, rows)
        if key != "key":
            _set_counter(writer, table, key, _counter(reader, table, key))
        stored = _Digest()
        # meta: the destination's own keys for tables the source lacks are not compared.
        only = keys if table == "meta" else None
        for rows in _batches(writer, table, key, columns, only=only):
            stored.add(columns, rows)
        counts[table], checksums[table] = copied.count, copied.hexdigest()
        if (stored.count, stored.hexdigest()) != (copied.count, copied.hexdigest()):
            mismatched.append(
                f"{table} ({copied.count} rows read, {stored.count} stored, checksums "
                f"{copied.hexdigest()[:12]} and {stored.hexdigest()[:12]})"
            )
    if mismatched:
        raise CatalogueError(
            f"{destination}: the copy does not read back as the source (nothing was kept): "
            + "; ".join(mismatched)
        )
    return counts, checksums


def _check_versions(conn: Connection, source: str) -> None:
    expected = {"schema_version": Catalogue.SCHEMA_VERSION} | {
        f"{store.GROUP}_schema": store.SCHEMA_VERSION
        for store in (EventStore, OverrideStore, FeedbackStore)
    }
    for key, version in expected.items():
        found = stored_version_of(conn, source, key)
        if found is not None and found != version:
            raise CatalogueError(
                f"{source}: meta {key!r} is {found}, this newsrec copies version {version}; "
                "run `newsrec migrate` on it with this newsrec first"
            )


def _batches(
    conn: Connection,
    table: str,
    key: str,
    columns: Sequence[str],
    *,
    only: set[Any] | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    selected = ", ".join(_quoted(c) for c in columns)
    at = columns.index(key)
    if key == "key":
        # A few rows, sorted here: the two backends may collate text differently.
        rows = [tuple(r) for r in conn.execute(f"SELECT {selected} FROM {table}").fetchall()]
        yield sorted((r for r in rows if only is None or r[at] in only), key=lambda r: r[at])
        return
    last = -(2**62)
    while True:
        rows = [
            tuple(r)
            for r in conn.execute(
                f"SELECT {selected} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?",
                (last, _BATCH),
            ).fetchall()
        ]
        if not rows:
            return
        yield rows
        last = int(rows[-1][at])


def _insert(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    marks = ", ".join("?" * len(columns))
    names = ", ".join(_quoted(c) for c in columns)
    if table == "meta":
        # The destination's own schema versions are already there (equal to the source's).
        conn.executemany(
            f"INSERT INTO meta ({names}) VALUES ({marks}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rows,
        )
    else:
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _counter(conn: Connection, table: str, key: str) -> int:
    """The last id ``table``'s counter handed out (0: none), which may exceed the largest
    stored (a rolled-back insert on PostgreSQL uses one up)."""
    if not column_names(conn, table):
        return 0
    if on_postgres(conn):
        sequence = conn.execute("SELECT pg_get_serial_sequence(?, ?)", (table, key)).fetchone()[0]
        last, called = conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
        return int(last) if called else int(last) - 1
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return 0 if row is None else int(row[0])


def _set_counter(conn: Connection, table: str, key: str, at_least: int) -> None:
    top = conn.execute(f"SELECT MAX({key}) FROM {table}").fetchone()[0]
    value = max(at_least, int(top or 0))
    if value < 1:
        return
    if on_postgres(conn):
        conn.execute("SELECT setval(pg_get_serial_sequence(?, ?), ?, true)", (table, key, value))
    elif (
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (value, table)).rowcount
        == 0
    ):
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))


class _Digest:
    """Row count and SHA-256 of rows fed in key order, each as canonical JSON: columns by name,
    floats in hex (exact), bytes in hex, so both backends' rows hash alike."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        order = sorted(range(len(columns)), key=lambda i: columns[i])
        for row in rows:
            line = json.dumps([[columns[i], _canonical(row[i])] for i in order])
            self._hash.update(line.encode("utf-8") + b"\n")
            self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, float):
        return {"float": value.hex()}
    return value


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
