"""``newsrec events`` with impressions and clicks of served lists: checked against their
recommendation id as ``POST /events`` checks them, stored once, bad rows named by file and line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from index.events import EventStore
from index.feedback import FeedbackStore
from recommender.cli import app
from recommender.experiments.signer import configured_ids
from recommender.experiments.tokens import Trace
from tests.conftest import make_settings

AT = "2026-12-01T10:00:00Z"
TRACE = Trace(
    source="S",
    lists={"more_like_this": ("A", "B"), "related": ("C", "D")},
    teams={},
    variant="B",
    experiment="weights-12",
    index_version="v000001",
    reader="0123456789abcdef",
    issued_at=datetime.now(UTC) - timedelta(minutes=5),
    nonce="00112233aabbccdd",
)


def _run(home: Path, path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["events", str(path), "--home", str(home)])
    return result.exit_code, result.output


def test_feedback_rows_are_checked_stored_once_and_bad_ones_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = configured_ids(make_settings(home)).issue(TRACE)
    rows = [
        {"kind": "impression", "recommendation_id": token, "list": "related", "at": AT},
        {"kind": "Click", "recommendation_id": token, "position": 2, "article_id": "D", "at": AT},
        {"kind": "click", "recommendation_id": token, "position": 1, "article_id": "D", "at": AT},
        {"kind": "impression", "recommendation_id": token[:-2] + "xx", "at": AT},
        {"kind": "impression", "at": AT},
        {"article_id": "A", "kind": "view", "at": AT, "user": "u1"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    code, output = _run(home, path)
    assert code == 0, output
    assert "stored 2 events" in output  # the click, as an ordinary click, and the view
    assert "stored 2 impressions and clicks of served lists, 0 already stored" in output
    assert "events.jsonl:3" in output and "article:" in output
    assert "events.jsonl:4" in output and "forged:" in output
    assert "events.jsonl:5" in output and "recommendation_id" in output

    code, output = _run(home, path)
    assert "stored 0 events, 2 already stored" in output
    assert "stored 0 impressions and clicks of served lists, 2 already stored" in output

    catalogue = make_settings(home).catalogue_path
    with FeedbackStore(catalogue, readonly=True) as store:
        assert [(r.kind, r.list_name, r.position, r.variant) for r in store.rows()] == [
            ("impression", "related", None, "B"),
            ("click", "related", 2, "B"),
        ]
    with EventStore(catalogue, readonly=True) as events:
        (batch,) = events.since(0)
        assert list(zip(batch.article_ids, batch.users, strict=True)) == [
            ("D", "0123456789abcdef"),
            ("A", "u1"),
        ]


def test_a_csv_of_impressions_needs_no_article_id_column(tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = configured_ids(make_settings(home)).issue(TRACE)
    path = tmp_path / "impressions.csv"
    path.write_text(
        f"kind,recommendation_id,list,visible,at\nimpression,{token},more_like_this,1 2,{AT}\n",
        encoding="utf-8",
    )
    code, output = _run(home, path)
    assert code == 0, output
    with FeedbackStore(make_settings(home).catalogue_path, readonly=True) as store:
        assert [(r.list_name, r.visible) for r in store.rows()] == [("more_like_this", (1, 2))]
