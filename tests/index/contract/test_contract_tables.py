"""The tables beside the articles (events, overrides, feedback), the same on a SQLite file and
on PostgreSQL: rows read back as stored, in seq order, a key is stored once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.events import Event, EventError, EventStore
from index.feedback import Feedback, FeedbackStore
from index.overrides import OverrideStore, UnknownOverride

Target = Path | str
T0 = datetime(2026, 12, 5, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def events(catalogue_target: Target) -> Iterator[EventStore]:
    with EventStore(catalogue_target) as store:
        yield store


@pytest.fixture
def overrides(catalogue_target: Target) -> Iterator[OverrideStore]:
    with OverrideStore(catalogue_target) as store:
        yield store


@pytest.fixture
def feedback(catalogue_target: Target) -> Iterator[FeedbackStore]:
    with FeedbackStore(catalogue_target) as store:
        yield store


def test_events_read_back_in_seq_order_with_their_readers(events: EventStore) -> None:
    added = events.add(
        [
            Event("a", "view", T0, user="r1"),
            Event("b", "click", T0 + timedelta(seconds=1)),
            Event("a", "click", T0 + timedelta(seconds=2), user="r2"),
        ]
    )
    assert added == 3 and events.count() == 3
    (batch,) = list(events.since(0))
    assert batch.article_ids == ["a", "b", "a"]
    assert list(batch.is_click) == [False, True, True]
    assert batch.users == ["r1", None, "r2"]
    assert batch.at_ts[0] == T0.timestamp()
    assert list(batch.seq) == sorted(batch.seq) and events.last_seq() == batch.seq[-1]


def test_an_event_whose_key_is_stored_is_skipped(events: EventStore) -> None:
    assert events.add([Event("a", "view", T0, key="k1"), Event("a", "view", T0, key="k2")]) == 2
    assert events.add([Event("a", "view", T0, key="k1"), Event("b", "view", T0, key="k3")]) == 1
    assert events.add([]) == 0
    assert events.count() == 3


def test_events_since_a_seq_come_in_batches(events: EventStore) -> None:
    events.add([Event(f"a{i}", "view", T0) for i in range(5)])
    first = events.last_seq() - 4
    batches = list(events.since(first, batch=2))
    assert [len(b) for b in batches] == [2, 2]
    assert np.concatenate([b.seq for b in batches]).tolist() == list(range(first + 1, first + 5))


def test_events_from_a_moment_on_are_removed(events: EventStore) -> None:
    events.add([Event("a", "view", T0 + timedelta(minutes=m)) for m in range(4)])
    assert events.remove_from(T0 + timedelta(minutes=2)) == 2
    assert events.count() == 2


def test_a_naive_event_time_is_refused(events: EventStore) -> None:
    with pytest.raises(EventError, match="tz-aware"):
        events.add([Event("a", "view", datetime(2026, 1, 1))])


def test_overrides_keep_their_audit_trail_and_change_the_revision(
    overrides: OverrideStore,
) -> None:
    rev = overrides.rev()
    pin = overrides.pin(
        "s", "t", position=2, reason="editor's pick", by="ed", list_name="more_like_this"
    )
    block = overrides.block("x", by="ed", until=T0)
    assert overrides.rev() != rev
    removed = overrides.remove(pin.id, by="chief")
    assert removed.removed_by == "chief" and removed.removed_at is not None
    assert [o.id for o in overrides.in_force()] == [block.id]
    stored = overrides.all()
    assert [o.id for o in stored] == [pin.id, block.id]
    assert stored[0] == removed and stored[0].list_name == "more_like_this"
    assert stored[1].until == T0 and overrides.get(block.id) == block


def test_removing_an_override_twice_is_refused(overrides: OverrideStore) -> None:
    block = overrides.block("x", by="ed")
    overrides.remove(block.id, by="ed")
    with pytest.raises(UnknownOverride):
        overrides.remove(block.id, by="ed")


def test_feedback_reads_back_as_stored_and_a_key_is_stored_once(feedback: FeedbackStore) -> None:
    impression = Feedback(
        kind="impression",
        key="imp:1",
        at=T0,
        recommendation="00ff",
        experiment="e1",
        variant="B",
        list_name="related",
        source="S",
        reader=None,
        index_version="v1",
        shown=("A", "B"),
        teams=("A", "B"),
        visible=(1,),
        issued_at=T0 - timedelta(seconds=5),
    )
    click = replace(
        impression,
        kind="click",
        key="click:1",
        shown=(),
        visible=None,
        position=2,
        article_id="B",
        experiment=None,
    )
    assert feedback.add_new([impression, click, impression]) == [impression, click]
    assert feedback.add([impression]) == 0
    assert list(feedback.rows()) == [impression, click]
    assert list(feedback.rows(experiment="e1")) == [impression]
    assert feedback.count() == 2 and list(feedback.rows(since_seq=feedback.last_seq())) == []
