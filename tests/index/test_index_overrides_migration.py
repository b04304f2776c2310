"""The overrides tables of version 1 (pins into Related only) keep loading: read as they are
read-only, migrated in place to version 2 (a pin's list) when opened for writing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index import Catalogue, FormatVersionError
from index.overrides import OverrideError, OverrideStore

# Version 1 of the overrides tables, as newsrec wrote them before pins had a list.
_V1_SCHEMA = """
CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('pin', 'block')),
    source_id   TEXT,
    target_id   TEXT NOT NULL,
    position    INTEGER,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT,
    removed_at  TEXT,
    removed_by  TEXT,
    CHECK (kind = 'block' OR (source_id IS NOT NULL AND position >= 1))
);
INSERT INTO meta (key, value) VALUES ('overrides_rev', '2');
INSERT INTO meta (key, value) VALUES ('overrides_schema', '1');
INSERT INTO overrides (kind, source_id, target_id, position, created_by, created_at, reason)
    VALUES ('pin', 'S', 'E', 2, 'ed', '2026-09-01T10:00:00+00:00', 'context');
INSERT INTO overrides (kind, source_id, target_id, position, created_by, created_at, reason)
    VALUES ('block', NULL, 'B', NULL, 'chief', '2026-09-01T11:00:00+00:00', 'legal');
"""


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalogue.sqlite"
    Catalogue(path).close()
    with sqlite3.connect(path) as conn:
        conn.executescript(_V1_SCHEMA)
    conn.close()
    return path


def _schema_version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'overrides_schema'").fetchone()
    finally:
        conn.close()
    return str(row[0])


def test_version_1_read_only_gives_pins_into_related_and_changes_nothing(v1_file: Path) -> None:
    with OverrideStore(v1_file, readonly=True) as store:
        pin, block = store.all()
    assert (pin.kind, pin.target_id, pin.position, pin.list_name) == ("pin", "E", 2, "related")
    assert (block.kind, block.target_id, block.created_by) == ("block", "B", "chief")
    assert _schema_version(v1_file) == "1"


def test_version_1_opened_for_writing_is_migrated_and_keeps_its_record(v1_file: Path) -> None:
    with OverrideStore(v1_file) as store:
        pin, _ = store.all()
        assert pin.list_name == "related" and pin.reason == "context"
        assert pin.created_at == datetime(2026, 9, 1, 10, tzinfo=UTC)
        made = store.pin("S", "M", by="ed", list_name="more_like_this")
        assert store.rev() == 3
    assert _schema_version(v1_file) == "2"
    with OverrideStore(v1_file, readonly=True) as store:
        assert [o.list_name for o in store.all()] == ["related", "related", "more_like_this"]
        assert store.get(made.id) == made


def test_a_pin_into_an_unknown_list_is_refused(tmp_path: Path) -> None:
    with (
        OverrideStore(tmp_path / "catalogue.sqlite") as store,
        pytest.raises(OverrideError, match="list must be one of related, more_like_this"),
    ):
        store.pin("S", "E", by="ed", list_name="popular")


def test_tables_of_a_newer_version_are_refused(v1_file: Path) -> None:
    with sqlite3.connect(v1_file) as conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'overrides_schema'")
    conn.close()
    with pytest.raises(FormatVersionError, match="format 3, this version reads up to 2"):
        OverrideStore(v1_file)
