"""The feedback table: rows read back as stored, in order; a key is stored once; bad rows are
refused by name; a read-only open reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from index import FormatVersionError
from index.feedback import Feedback, FeedbackError, FeedbackStore

T0 = datetime(2026, 12, 5, 9, 30, 0, 123456, tzinfo=UTC)

IMPRESSION = Feedback(
    kind="impression",
    key="imp:00ff:related",
    at=T0,
    recommendation="00ff",
    experiment="weights-12",
    variant="B",
    list_name="related",
    source="S",
    reader="0123456789abcdef",
    index_version="v000003+2",
    shown=("A", "B", "C"),
    teams=("A", "B", "A"),
    visible=(1, 2),
    issued_at=T0 - timedelta(seconds=5),
)
CLICK = replace(
    IMPRESSION,
    kind="click",
    key="click:00ff:related:2",
    at=T0 + timedelta(seconds=7),
    shown=(),
    visible=None,
    position=2,
    article_id="B",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore(tmp_path / "catalogue.sqlite") as opened:
        yield opened


def test_rows_read_back_exactly_as_stored(store: FeedbackStore) -> None:
    assert store.add([IMPRESSION, CLICK]) == 2
    assert list(store.rows()) == [IMPRESSION, CLICK]


def test_times_in_other_zones_read_back_as_the_same_instant(store: FeedbackStore) -> None:
    paris = timezone(timedelta(hours=1))
    store.add([replace(IMPRESSION, at=T0.astimezone(paris))])
    assert next(store.rows()).at == T0


def test_a_key_already_stored_is_skipped(store: FeedbackStore) -> None:
    store.add([IMPRESSION])
    assert store.add([IMPRESSION, CLICK, CLICK]) == 1
    assert store.count() == 2


def test_add_new_returns_only_the_rows_that_were_new(store: FeedbackStore) -> None:
    store.add([IMPRESSION])
    assert store.add_new([IMPRESSION, CLICK]) == [CLICK]


def test_rows_filter_by_experiment_and_seq(store: FeedbackStore) -> None:
    other = replace(IMPRESSION, key="imp:1111:related", experiment=None, variant="default")
    store.add([IMPRESSION, other, CLICK])
    assert [row.key for row in store.rows(experiment="weights-12")] == [IMPRESSION.key, CLICK.key]
    assert [row.key for row in store.rows(since_seq=1)] == [other.key, CLICK.key]
    assert store.last_seq() == 3


def test_visible_none_and_empty_are_kept_apart(store: FeedbackStore) -> None:
    none = replace(IMPRESSION, key="a", visible=None)
    empty = replace(IMPRESSION, key="b", visible=())
    store.add([none, empty])
    assert [row.visible for row in store.rows()] == [None, ()]


@pytest.mark.parametrize(
    ("row", "names"),
    [
        (replace(IMPRESSION, key=""), "key"),
        (replace(IMPRESSION, kind="view"), "kind"),  # type: ignore[arg-type]
        (replace(IMPRESSION, at=T0.replace(tzinfo=None)), "at must be a tz-aware"),
        (replace(CLICK, position=None), "position"),
        (replace(CLICK, article_id=None), "article_id"),
        (replace(IMPRESSION, variant=""), "variant"),
    ],
)
def test_bad_rows_are_refused_by_name(store: FeedbackStore, row: Feedback, names: str) -> None:
    with pytest.raises(FeedbackError, match=names):
        store.add([IMPRESSION, row])
    assert store.count() == 0  # one bad row stores nothing of its batch


def test_a_readonly_open_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with FeedbackStore(path) as writer:
        writer.add([IMPRESSION])
    with FeedbackStore(path, readonly=True) as reader:
        assert list(reader.rows()) == [IMPRESSION]
        with pytest.raises(FeedbackError, match="read-only"):
            reader.add([CLICK])


def test_tables_of_a_newer_newsrec_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    FeedbackStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'feedback_schema'")
    with pytest.raises(FormatVersionError, match="feedback tables written by a newer newsrec"):
        FeedbackStore(path)
