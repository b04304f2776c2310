"""The SQLite article catalogue: upserts, soft deletes, the change log and persistence."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from index import Catalogue, CatalogueError, FormatVersionError, UpsertCounts
from tests.index.records import rec, vec


@pytest.fixture
def cat(tmp_path: Path) -> Catalogue:
    return Catalogue(tmp_path / "catalogue.sqlite")


def test_upserting_new_records_counts_them_added(cat: Catalogue) -> None:
    counts = cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0), "b": vec(0, 1, 0)})
    assert counts == UpsertCounts(added=2, updated=0, unchanged=0)
    assert cat.count() == 2


def test_new_records_get_increasing_doc_ids(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0), "b": vec(0, 1, 0)})
    doc_a, doc_b = cat.doc_id_of("a"), cat.doc_id_of("b")
    assert doc_a is not None and doc_b is not None
    assert 0 <= doc_a < doc_b


def test_identical_records_are_unchanged_and_log_nothing(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    seq = cat.last_seq()
    assert cat.upsert([rec("a")], {}) == UpsertCounts(added=0, updated=0, unchanged=1)
    assert cat.last_seq() == seq


def test_changed_metadata_with_the_same_content_hash_needs_no_vector(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    counts = cat.upsert([rec("a", popularity=9.0)], {})
    assert counts == UpsertCounts(added=0, updated=1, unchanged=0)
    stored = cat.get("a")
    assert stored is not None and stored.popularity == 9.0
    np.testing.assert_array_equal(cat.vectors()[1], [[1, 0, 0]])


def test_changed_content_hash_without_a_vector_raises_naming_the_id(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    with pytest.raises(CatalogueError, match="article 'a': no vector given"):
        cat.upsert([rec("a", content_hash="bb")], {})


def test_changed_content_hash_replaces_the_stored_vector(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    cat.upsert([rec("a", content_hash="bb")], {"a": vec(0, 0, 1)})
    np.testing.assert_array_equal(cat.vectors()[1], [[0, 0, 1]])


def test_a_new_record_without_a_vector_raises_and_writes_nothing(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="article 'b': no vector given"):
        cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0)})
    assert cat.count() == 0
    assert cat.last_seq() == 0


def test_each_add_or_update_logs_an_upsert_change(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0), "b": vec(0, 1, 0)})
    cat.upsert([rec("a", title="New title")], {})
    ops = [(c.article_id, c.op) for c in cat.changes_since(0)]
    assert ops == [("a", "upsert"), ("b", "upsert"), ("a", "upsert")]


def test_duplicate_ids_in_one_call_last_one_wins(cat: Catalogue) -> None:
    counts = cat.upsert([rec("a", title="first"), rec("a", title="second")], {"a": vec(1, 0, 0)})
    assert counts == UpsertCounts(added=1, updated=0, unchanged=0)
    stored = cat.get("a")
    assert stored is not None and stored.title == "second"


def test_unpublish_hides_the_article_and_logs_a_delete(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0), "b": vec(0, 1, 0)})
    doc_a = cat.doc_id_of("a")
    assert cat.unpublish("a") is True
    assert cat.get("a") is None
    assert cat.doc_id_of("a") is None
    assert cat.count() == 1
    assert cat.content_hashes(["a", "b"]) == {"b": "aa"}
    assert cat.vectors()[0].tolist() == [cat.doc_id_of("b")]
    last = cat.changes_since(cat.last_seq() - 1)
    assert [(c.doc_id, c.article_id, c.op) for c in last] == [(doc_a, "a", "delete")]


def test_unpublish_of_an_unknown_or_already_unpublished_id_returns_false(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    cat.unpublish("a")
    seq = cat.last_seq()
    assert cat.unpublish("a") is False
    assert cat.unpublish("nope") is False
    assert cat.last_seq() == seq


def test_republishing_keeps_the_doc_id_and_counts_as_added(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    doc_id = cat.doc_id_of("a")
    cat.unpublish("a")
    assert cat.upsert([rec("a")], {}) == UpsertCounts(added=1, updated=0, unchanged=0)
    assert cat.doc_id_of("a") == doc_id
    np.testing.assert_array_equal(cat.vectors()[1], [[1, 0, 0]])


def test_changes_since_returns_later_changes_in_seq_order(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    first = cat.last_seq()
    cat.upsert([rec("b")], {"b": vec(0, 1, 0)})
    cat.unpublish("a")
    changes = cat.changes_since(first)
    assert [(c.article_id, c.op) for c in changes] == [("b", "upsert"), ("a", "delete")]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert changes[-1].seq == cat.last_seq()


def test_net_changes_keep_each_articles_latest_change(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    start = cat.last_seq()
    assert cat.net_changes(start).count == 0 and cat.net_changes(start).last_seq == start
    cat.upsert([rec("b"), rec("c")], {"b": vec(0, 1, 0), "c": vec(0, 0, 1)})
    doc = {name: cat.doc_id_of(name) for name in "abc"}
    cat.unpublish("a")
    cat.unpublish("b")
    cat.upsert([rec("b", title="back")], {"b": vec(0, 1, 0)})
    net = cat.net_changes(start)
    assert sorted(net.upserted) == sorted([doc["b"], doc["c"]])
    assert net.deleted == [doc["a"]]
    assert net.touched() == sorted(doc.values())
    assert net.last_seq == cat.last_seq() and net.count == len(cat.changes_since(start))


def test_last_seq_is_zero_for_a_new_catalogue(cat: Catalogue) -> None:
    assert cat.last_seq() == 0
    assert cat.changes_since(0) == []


def test_a_newer_schema_version_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    Catalogue(path).close()
    newer = Catalogue.SCHEMA_VERSION + 1
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(newer),))
    with pytest.raises(
        FormatVersionError,
        match=re.escape(
            f"{path}: written by a newer newsrec (format {newer}, this version reads up to "
            f"{Catalogue.SCHEMA_VERSION})"
        ),
    ):
        Catalogue(path)


def test_a_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    path.write_text("these are not the bytes you are looking for " * 100)
    with pytest.raises(
        CatalogueError, match=rf"{re.escape(str(path))}: not a readable SQLite database"
    ):
        Catalogue(path)


def test_a_vector_of_another_dimension_is_refused(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0, 0)})
    with pytest.raises(CatalogueError, match=r"article 'b': vector has dimension 2.*dimension 3"):
        cat.upsert([rec("b")], {"b": vec(1, 0)})


def test_the_first_vector_fixes_the_dimension_only_if_committed(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError):
        cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0)})  # b has no vector: rolled back
    cat.upsert([rec("c")], {"c": vec(1, 0, 0)})
    assert cat.vectors()[1].shape == (1, 3)


def test_catalogue_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with Catalogue(path) as cat:
        cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0), "b": vec(0, 1, 0)})
        cat.unpublish("b")
        before = (cat.get("a"), cat.last_seq(), cat.count())
    with Catalogue(path) as reopened:
        assert (reopened.get("a"), reopened.last_seq(), reopened.count()) == before
        np.testing.assert_array_equal(reopened.vectors()[1], [[1, 0, 0]])
        with pytest.raises(CatalogueError, match="vector has dimension 2"):
            reopened.upsert([rec("c")], {"c": vec(1, 0)})


def test_get_returns_the_stored_record_with_its_doc_id(cat: Catalogue) -> None:
    record = rec("a", tags=("x", "y"), url=None, section=None, language=None, published_at=None)
    cat.upsert([record], {"a": vec(1, 0, 0)})
    doc_id = cat.doc_id_of("a")
    assert doc_id is not None
    assert cat.get("a") == dataclasses.replace(record, doc_id=doc_id)


def test_published_at_is_stored_in_utc(cat: Catalogue) -> None:
    cest = timezone(timedelta(hours=2))
    cat.upsert([rec("a", published_at=datetime(2024, 5, 1, 14, 0, tzinfo=cest))], {"a": vec(1)})
    stored = cat.get("a")
    assert stored is not None
    assert stored.published_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert stored.published_at.utcoffset() == timedelta(0)


def test_a_naive_published_at_is_refused(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="article 'a': published_at has no time zone"):
        cat.upsert([rec("a", published_at=datetime(2024, 5, 1))], {"a": vec(1)})


def test_get_by_doc_ids_keeps_the_given_order_and_skips_missing(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b"), rec("c")], {k: vec(1, 0, 0) for k in "abc"})
    doc = {k: cat.doc_id_of(k) for k in "abc"}
    cat.unpublish("b")
    got = cat.get_by_doc_ids([doc["c"] or 0, 12345, doc["b"] or 0, doc["a"] or 0])
    assert [r.id for r in got] == ["c", "a"]


def test_iter_records_yields_live_records_in_doc_id_order_across_batches(cat: Catalogue) -> None:
    ids = [f"n{i}" for i in range(7)]
    cat.upsert([rec(i) for i in ids], {i: vec(1, 0, 0) for i in ids})
    cat.unpublish("n3")
    got = list(cat.iter_records(batch=2))
    assert [r.id for r in got] == [i for i in ids if i != "n3"]
    assert [r.doc_id for r in got] == sorted(r.doc_id for r in got)


def test_vectors_for_given_doc_ids_are_ordered_by_doc_id(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b"), rec("c")], {"a": vec(1), "b": vec(2), "c": vec(3)})
    doc_a, doc_c = cat.doc_id_of("a"), cat.doc_id_of("c")
    assert doc_a is not None and doc_c is not None
    ids, matrix = cat.vectors([doc_c, doc_a, 999])
    assert ids.dtype == np.int64
    assert matrix.dtype == np.float32
    assert ids.tolist() == [doc_a, doc_c]
    assert matrix.tolist() == [[1.0], [3.0]]


def test_vectors_of_an_empty_catalogue_is_an_empty_matrix(cat: Catalogue) -> None:
    ids, matrix = cat.vectors()
    assert ids.shape == (0,)
    assert matrix.shape[0] == 0


def test_a_readonly_catalogue_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with Catalogue(path) as cat:
        cat.upsert([rec("a")], {"a": vec(1)})
    with Catalogue(path, readonly=True) as ro:
        assert ro.count() == 1
        with pytest.raises(CatalogueError, match="opened read-only"):
            ro.unpublish("a")


def test_a_closed_catalogue_raises_naming_the_file(cat: Catalogue) -> None:
    cat.close()
    with pytest.raises(CatalogueError, match=rf"{re.escape(str(cat.path))}: catalogue is closed"):
        cat.count()


def test_one_catalogue_can_be_shared_between_threads(cat: Catalogue) -> None:
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            for i in range(20):
                cat.upsert([rec(f"{prefix}{i}")], {f"{prefix}{i}": vec(1, 0)})
                cat.count()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in "xyz"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cat.count() == 60
    assert cat.last_seq() == 60


def test_a_reader_opened_before_the_first_vector_can_read_vectors(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with Catalogue(path) as writer, Catalogue(path, readonly=True) as reader:
        writer.upsert([rec("a")], {"a": vec(0.6, 0.8)})
        ids, matrix = reader.vectors()
        assert ids.tolist() == [writer.doc_id_of("a")]
        np.testing.assert_allclose(matrix, [[0.6, 0.8]])


def test_dim_is_none_until_the_first_vector_is_stored(cat: Catalogue) -> None:
    assert cat.dim is None
    cat.upsert([rec("a")], {"a": vec(0.6, 0.8)})
    assert cat.dim == 2


def test_a_file_short_of_its_page_count_is_damaged_unless_a_checkpoint_is_pending(
    tmp_path: Path,
) -> None:
    from index.catalogue import _header_problems

    path = tmp_path / "short.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(100)])
    conn.close()
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size - 4096)
    assert any("bytes 28-31" in problem for problem in _header_problems(path))
    # A checkpoint killed mid-way: page 1 written, the WAL still holding every page.
    (tmp_path / "short.sqlite-wal").write_bytes(b"\0" * 32)
    assert not any("bytes 28-31" in problem for problem in _header_problems(path))
