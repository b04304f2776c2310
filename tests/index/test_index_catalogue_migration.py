"""Catalogue format 1 to 2: a format-1 file (the committed reference) is migrated in place when
opened for writing, keeps every article, vector and change, and takes the metadata format 2
added; opened read-only it is read as it is, unchanged."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index import Catalogue

REFERENCE_V1 = Path(__file__).resolve().parents[1] / "data" / "catalogue-format-v1"


def _schema_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0])


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "catalogue.sqlite"
    shutil.copyfile(REFERENCE_V1 / "catalogue.sqlite", copy)
    assert _schema_version(copy) == 1
    return copy


def test_opening_a_format_1_catalogue_for_writing_migrates_it_to_format_2(v1_copy: Path) -> None:
    Catalogue(v1_copy).close()
    assert _schema_version(v1_copy) == Catalogue.SCHEMA_VERSION == 2


def test_a_migrated_catalogue_keeps_its_articles_vectors_and_changes(v1_copy: Path) -> None:
    with Catalogue(v1_copy) as catalogue:
        assert (catalogue.count(), catalogue.last_seq()) == (5, 7)
        first = catalogue.get("ref-1")
        assert first is not None
        assert (first.title, first.section, first.tags) == (
            "Reference article 1",
            "world",
            ("tag1",),
        )
        assert (first.author, first.kind, first.fields) == (None, None, ())
        doc_ids, vectors = catalogue.vectors()
        assert doc_ids.tolist() == [1, 2, 3, 4, 5]
        np.testing.assert_array_equal(vectors[0], np.array([1, 0, 0, 0], np.float32))
        assert catalogue.check() == []


def test_a_migrated_article_takes_metadata_as_an_update_without_a_new_vector(
    v1_copy: Path,
) -> None:
    with Catalogue(v1_copy) as catalogue:
        first = catalogue.get("ref-1")
        assert first is not None
        tagged = replace(first, author="Ana Ruiz", kind="opinion", fields=(("desk", "metro"),))
        counts = catalogue.upsert([tagged], {})
        assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 0)
        again = catalogue.get("ref-1")
        assert again is not None
        assert (again.author, again.kind, again.fields) == (
            "Ana Ruiz",
            "opinion",
            (("desk", "metro"),),
        )
        assert catalogue.upsert([tagged], {}).unchanged == 1


def test_a_format_1_catalogue_opened_read_only_is_read_unchanged(v1_copy: Path) -> None:
    digest = hashlib.sha256(v1_copy.read_bytes()).hexdigest()
    with Catalogue(v1_copy, readonly=True) as catalogue:
        records = list(catalogue.iter_records())
        assert [r.id for r in records] == ["ref-1", "ref-2", "ref-3", "ref-4", "ref-5"]
        assert all((r.author, r.kind, r.fields) == (None, None, ()) for r in records)
    assert _schema_version(v1_copy) == 1
    assert hashlib.sha256(v1_copy.read_bytes()).hexdigest() == digest
