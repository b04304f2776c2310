"""Copying a catalogue to the other backend and back loses nothing: every table reads back
equal, doc ids and seqs are kept, and new ones continue after the copied."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from index import ArticleRecord, Catalogue, CatalogueError, copy_catalogue
from index.copying import TABLES
from index.events import Event, EventStore
from index.feedback import FeedbackStore
from index.overrides import OverrideStore

Target = Path | str
T0 = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def rec(article_id: str, **fields: object) -> ArticleRecord:
    values: dict[str, object] = {
        "id": article_id,
        "title": f"Title {article_id}",
        "body": "Body.",
        "url": None,
        "section": "world",
        "tags": ("a",),
        "language": "en",
        "published_at": T0,
        "popularity": 0.25,
        "content_hash": "h",
        "fields": (("n", 1.5),),
    }
    values.update(fields)
    return ArticleRecord(**values)  # type: ignore[arg-type]


def fill(target: Target) -> None:
    with Catalogue(target) as cat:
        cat.upsert(
            [rec("a"), rec("b"), rec("c", published_at=None)],
            {k: np.array([0.6, 0.8], dtype=np.float32) for k in "abc"},
        )
        cat.unpublish("b")
    with EventStore(target) as events:
        events.add([Event("a", "view", T0, user="r", key="k"), Event("c", "click", T0)])
    with OverrideStore(target) as overrides:
        pin = overrides.pin("a", "c", by="ed", reason="pick")
        overrides.remove(pin.id, by="chief")
        overrides.block("c", by="ed")
    FeedbackStore(target).close()


def test_a_copy_there_and_back_reads_back_equal(
    catalogue_target: Target, other_target: Target, tmp_path: Path
) -> None:
    fill(catalogue_target)
    there = copy_catalogue(catalogue_target, other_target)
    back = copy_catalogue(other_target, tmp_path / "back.sqlite")
    assert there.counts == back.counts and there.checksums == back.checksums
    assert {name for name, _ in TABLES} == set(there.counts)
    assert there.counts["articles"] == 3 and there.counts["overrides"] == 2
    with Catalogue(catalogue_target) as before, Catalogue(other_target) as after:
        assert after.changes_since(0) == before.changes_since(0)
        assert after.get("a") == before.get("a") and after.get("b") is None
        assert after.vectors()[1].tobytes() == before.vectors()[1].tobytes()
        # New doc ids and seqs continue after the copied ones.
        after.upsert([rec("d")], {"d": np.array([1, 0], dtype=np.float32)})
        assert (after.doc_id_of("d") or 0) > (before.doc_id_of("c") or 0)
        assert after.last_seq() == before.last_seq() + 1
    with OverrideStore(other_target) as overrides:
        assert [o.removed_by for o in overrides.all()] == ["chief", None]
    with EventStore(other_target) as events:
        assert events.add([Event("a", "view", T0, key="k")]) == 0  # the key came along


def test_a_destination_with_articles_is_refused(
    catalogue_target: Target, other_target: Target
) -> None:
    fill(catalogue_target)
    fill(other_target)
    with pytest.raises(CatalogueError, match="already holds articles"):
        copy_catalogue(catalogue_target, other_target)
