"""The catalogue's contract, the same on a SQLite file and on PostgreSQL: what is stored reads
back exactly, the change log orders every write, and a follower reading it never skips one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from index import ArticleRecord, Catalogue, CatalogueError, UpsertCounts, migrate
from tests.index.records import rec

Target = Path | str


def vec(*values: float) -> npt.NDArray[np.float32]:
    # Unit length, as stored vectors are: check() reports any other norm as damage.
    array = np.array(values, dtype=np.float32)
    return array / np.linalg.norm(array)


@pytest.fixture
def cat(catalogue_target: Target) -> Any:
    with Catalogue(catalogue_target) as opened:
        yield opened


def test_a_record_reads_back_with_every_field(cat: Catalogue) -> None:
    record = rec(
        "a",
        title="Ünïcode — title",
        tags=("x", "y z"),
        published_at=datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        popularity=0.1,
        author="Jo",
        kind="opinion",
        fields=(("flag", True), ("score", 2.5), ("slug", "s"), ("words", 812)),
        url=None,
        section=None,
        language=None,
    )
    cat.upsert([record], {"a": vec(1, 2, 3)})
    stored = cat.get("a")
    assert stored is not None
    assert stored == ArticleRecord(
        **{
            **{f: getattr(record, f) for f in record.__dataclass_fields__},
            "published_at": datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
            "doc_id": stored.doc_id,
        }
    )


def test_vectors_read_back_bit_for_bit_in_doc_id_order(cat: Catalogue) -> None:
    a, b = vec(0.1, 0.2, 0.3), vec(-1.0, 1e-7, 3.0)
    cat.upsert([rec("b"), rec("a")], {"a": a, "b": b})
    ids, matrix = cat.vectors()
    assert list(ids) == sorted(ids) and len(ids) == 2
    assert matrix.dtype == np.float32 and cat.dim == 3
    assert matrix[list(ids).index(cat.doc_id_of("a"))].tobytes() == a.tobytes()
    only_b = cat.vectors([cat.doc_id_of("b") or 0])
    assert only_b[1].tobytes() == b.tobytes()


def test_upserts_count_added_updated_and_unchanged(cat: Catalogue) -> None:
    assert cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0), "b": vec(0, 1)}) == UpsertCounts(
        added=2, updated=0, unchanged=0
    )
    counts = cat.upsert([rec("a"), rec("b", popularity=9.0)], {})
    assert counts == UpsertCounts(added=0, updated=1, unchanged=1)
    assert cat.count() == 2


def test_doc_ids_increase_and_a_republished_article_keeps_its_own(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0), "b": vec(0, 1)})
    doc_a, doc_b = cat.doc_id_of("a"), cat.doc_id_of("b")
    assert doc_a is not None and doc_b is not None and doc_a < doc_b
    assert cat.unpublish("a") is True and cat.get("a") is None
    assert cat.unpublish("a") is False
    assert cat.upsert([rec("a")], {}).added == 1
    assert cat.doc_id_of("a") == doc_a


def test_the_change_log_orders_every_write(cat: Catalogue) -> None:
    assert cat.last_seq() == 0
    cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0), "b": vec(0, 1)})
    cat.unpublish("a")
    changes = cat.changes_since(0)
    assert [(c.article_id, c.op) for c in changes] == [
        ("a", "upsert"),
        ("b", "upsert"),
        ("a", "delete"),
    ]
    assert [c.seq for c in changes] == sorted({c.seq for c in changes})
    assert cat.last_seq() == changes[-1].seq
    assert cat.changes_since(changes[0].seq) == changes[1:]
    net = cat.net_changes(0)
    assert net.upserted == [cat.doc_id_of("b")] and len(net.deleted) == 1
    assert cat.live_count_at(changes[1].seq) == 2
    assert cat.live_count_at(changes[2].seq) == 1


def test_a_failed_upsert_writes_nothing(cat: Catalogue) -> None:
    cat.upsert([rec("a")], {"a": vec(1, 0)})
    seq = cat.last_seq()
    with pytest.raises(CatalogueError, match="article 'c': vector has dimension 3"):
        cat.upsert([rec("b"), rec("c")], {"b": vec(0, 1), "c": vec(1, 1, 1)})
    assert cat.get("b") is None and cat.last_seq() == seq and cat.count() == 1


def test_the_first_vector_fixes_the_dimension_only_if_committed(cat: Catalogue) -> None:
    with pytest.raises(CatalogueError):
        cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0, 0)})
    assert cat.dim is None
    cat.upsert([rec("a")], {"a": vec(1, 0)})
    assert cat.dim == 2


def test_reads_by_id_and_doc_id(cat: Catalogue) -> None:
    cat.upsert([rec("a"), rec("b"), rec("c")], {k: vec(1, 0) for k in "abc"})
    cat.unpublish("c")
    assert cat.content_hashes(["a", "c", "zz"]) == {"a": "aa"}
    docs = [cat.doc_id_of("b"), cat.doc_id_of("a")]
    assert [r.id for r in cat.get_by_doc_ids([*docs, -1, 99999])] == ["b", "a"]
    assert [r.id for r in cat.iter_records(batch=1)] == ["a", "b"]


def test_find_ignores_case_puts_the_exact_match_first_then_the_newest(cat: Catalogue) -> None:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    cat.upsert(
        [
            rec("old", title="Budget vote in PARIS", published_at=day),
            rec("new", title="Paris budget", published_at=day + timedelta(days=1)),
            rec("undated", title="paris budget talks", published_at=None, url=None),
            rec("exact", title="Other news", url="https://x.example/paris-budget"),
            rec("off", title="Lyon budget"),
        ],
        {k: vec(1, 0) for k in ("old", "new", "undated", "exact", "off")},
    )
    found = cat.find(["paris", "budget"], exact="exact", limit=10)
    assert [r.id for r in found] == ["exact", "new", "undated", "old"]
    assert [r.id for r in cat.find(["paris"], exact="-", limit=1)] == ["new"]


def test_find_takes_wildcards_literally(cat: Catalogue) -> None:
    cat.upsert(
        [rec("pct", title="Up 50% today"), rec("other", title="Up 500 today")],
        {"pct": vec(1, 0), "other": vec(0, 1)},
    )
    assert [r.id for r in cat.find(["50%"], exact="-", limit=5)] == ["pct"]
    assert [r.id for r in cat.find(["_0"], exact="-", limit=5)] == []


def test_a_second_open_sees_what_the_first_wrote(catalogue_target: Target) -> None:
    with Catalogue(catalogue_target) as first:
        first.upsert([rec("a")], {"a": vec(1, 0)})
    with Catalogue(catalogue_target, readonly=True) as second:
        assert second.get("a") is not None and second.dim == 2
        with pytest.raises(CatalogueError, match="read-only"):
            second.upsert([rec("b")], {"b": vec(0, 1)})


def test_a_healthy_catalogue_checks_clean(catalogue_target: Target) -> None:
    with Catalogue(catalogue_target) as cat:
        cat.upsert([rec("a"), rec("b")], {"a": vec(1, 0), "b": vec(0, 1)})
    # Checked as doctor does, opened afresh (SQLite: with the write-ahead log checkpointed).
    with Catalogue(catalogue_target, readonly=True) as cat:
        assert cat.check() == []


def test_a_closed_catalogue_raises(cat: Catalogue) -> None:
    cat.close()
    with pytest.raises(CatalogueError, match="closed"):
        cat.count()


def test_migrate_creates_every_group_at_this_version(catalogue_target: Target) -> None:
    expected = {"catalogue": 2, "events": 1, "overrides": 2, "feedback": 1}
    assert migrate(catalogue_target) == expected
    assert migrate(catalogue_target) == expected  # a second run changes nothing


def test_a_follower_of_the_change_log_misses_no_concurrent_write(
    catalogue_target: Target,
) -> None:
    # Writers in several threads, each on its own connection; a follower reads seq > last
    # and must end up with every change: a seq committed after a higher one would be skipped.
    Catalogue(catalogue_target).close()
    writers, per_writer = 4, 15
    seen: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with Catalogue(catalogue_target) as mine:
                for i in range(per_writer):
                    mine.upsert([rec(f"w{n}-{i}")], {f"w{n}-{i}": vec(1, n + 1)})
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    def follow() -> None:
        with Catalogue(catalogue_target, readonly=True) as reader:
            last = 0
            while True:
                finished = done.is_set()
                for change in reader.changes_since(last):
                    seen.append(change.seq)
                    last = change.seq
                if finished:
                    return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    follower = threading.Thread(target=follow)
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    follower.join()
    assert not errors, errors
    with Catalogue(catalogue_target) as cat:
        assert seen == [c.seq for c in cat.changes_since(0)]
    assert len(seen) == writers * per_writer
