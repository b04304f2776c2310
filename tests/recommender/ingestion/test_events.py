"""Specification of reading events and the popularity they make: stored once, decayed with a
half-life, normalised robustly, with a prior that keeps new articles off the bottom."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from index import FormatVersionError
from index.events import Event, EventBatch, EventError, EventStore
from recommender.cli import app
from recommender.ingestion.events import read_events, record_events
from recommender.ingestion.files import RowProblem
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.signals.popularity import DecayedCounts, percentile_popularity, popularity_signal
from recommender.signals.recency import SECONDS_PER_DAY
from tests.conftest import make_settings
from tests.handmade import PLAIN, STORM_DOCS, Doc, build_home

T0 = datetime(2026, 9, 10, 12, tzinfo=UTC)


def _store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "catalogue.sqlite")


# --- storage -------------------------------------------------------------------------------
def test_events_are_stored_and_read_back_in_order(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        added = store.add([Event("a", "view", T0), Event("b", "click", T0 + timedelta(hours=1))])
        batches = list(store.since(0))
    assert added == 2
    assert batches[0].article_ids == ["a", "b"]
    assert batches[0].is_click.tolist() == [False, True]
    assert batches[0].at_ts.tolist() == [T0.timestamp(), T0.timestamp() + 3600]


def test_an_event_whose_key_was_stored_is_skipped(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.add([Event("a", "view", T0, key="k1")])
        assert store.add([Event("a", "view", T0, key="k1"), Event("a", "view", T0)]) == 1
        assert store.count() == 2


def test_since_returns_only_newer_events_in_batches(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.add([Event(str(i), "view", T0) for i in range(5)])
        batches = list(store.since(2, batch=2))
    assert [b.article_ids for b in batches] == [["2", "3"], ["4"]]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (Event("a", "like", T0), "kind"),  # type: ignore[arg-type]
        (Event("", "view", T0), "article_id"),
        (Event("a", "view", datetime(2026, 9, 10)), "tz-aware"),
    ],
)
def test_bad_events_are_refused_naming_the_field(
    tmp_path: Path, event: Event, message: str
) -> None:
    with _store(tmp_path) as store, pytest.raises(EventError, match=message):
        store.add([event])


def test_events_written_by_a_newer_newsrec_are_refused(tmp_path: Path) -> None:
    _store(tmp_path).close()
    with sqlite3.connect(tmp_path / "catalogue.sqlite") as conn:
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'events_schema'")
    with pytest.raises(FormatVersionError, match="events"):
        _store(tmp_path)


# --- reading event files -------------------------------------------------------------------
def test_jsonl_events_are_read_and_bad_rows_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"article_id": "a", "kind": "view", "at": "2026-09-10T12:00:00Z", "user": "u1"}\n'
        '{"article_id": "a", "kind": "like", "at": "2026-09-10T12:00:00Z"}\n'
        '{"article_id": "b", "kind": "click"}\n'
        '{"article_id": "b", "kind": "click", "at": "2026-09-10T13:00:00"}\n',
        encoding="utf-8",
    )
    items = list(read_events(path))
    problems = [(p.line, p.reason.split(":")[0]) for p in items if isinstance(p, RowProblem)]
    events = [e for e in items if isinstance(e, Event)]
    assert problems == [(2, "kind"), (3, "at")]
    assert [(e.article_id, e.kind, e.at) for e in events] == [
        ("a", "view", T0),
        ("b", "click", T0 + timedelta(hours=1)),  # no zone: UTC
    ]


def test_csv_events_are_read(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("article_id,kind,at\na,click,2026-09-10T12:00:00Z\n", encoding="utf-8")
    assert [(e.article_id, e.kind) for e in read_events(path) if isinstance(e, Event)] == [
        ("a", "click")
    ]


def test_reading_a_file_again_adds_nothing_anonymous_rows_included(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"article_id": "a", "kind": "view", "at": "2026-09-10T12:00:00Z", "user": "u1"}\n'
        '{"article_id": "a", "kind": "view", "at": "2026-09-10T12:00:00Z", "id": "e2"}\n'
        '{"article_id": "a", "kind": "view", "at": "2026-09-10T12:00:00Z"}\n'
        '{"article_id": "a", "kind": "view", "at": "2026-09-10T12:00:00Z"}\n',
        encoding="utf-8",
    )
    first = record_events([path], tmp_path / "catalogue.sqlite")
    again = record_events([path], tmp_path / "catalogue.sqlite")
    # The two identical anonymous rows are two events (two lines), each stored once.
    assert (first.added, again.added, again.already_stored) == (4, 0, 4)
    assert first.unknown_articles == 4  # kept: they count once "a" is ingested


def test_mind_clicks_become_click_events_at_the_impression_time(tmp_path: Path) -> None:
    path = tmp_path / "behaviors.tsv"
    path.write_text(
        "1\tU1\t11/13/2019 5:53:12 AM\tN1\tN1-1 N2-0 N9-1\n2\tU2\t11/13/2019 6:53:12 PM\t\tN2-1\n",
        encoding="utf-8",
    )
    events = [e for e in read_events(path) if isinstance(e, Event) and e.kind == "click"]
    assert [(e.article_id, e.kind, e.user, e.at.hour) for e in events] == [
        ("N1", "click", "U1", 5),
        ("N9", "click", "U1", 5),
        ("N2", "click", "U2", 18),
    ]
    record_events([path], tmp_path / "catalogue.sqlite")
    assert record_events([path], tmp_path / "catalogue.sqlite").added == 0


def test_mind_history_reads_become_views_just_before_the_readers_first_impression(
    tmp_path: Path,
) -> None:
    # U1's rows are out of time order in the file; both repeat the same history.
    path = tmp_path / "behaviors.tsv"
    path.write_text(
        "1\tU1\t11/14/2019 9:00:00 AM\tN1 N2\tN3-1\n"
        "2\tU1\t11/13/2019 5:00:00 AM\tN1 N2\tN4-0\n"
        "3\tU2\t11/13/2019 6:00:00 AM\t\tN2-1\n",
        encoding="utf-8",
    )
    views = [e for e in read_events(path) if isinstance(e, Event) and e.kind == "view"]
    first_u1 = datetime(2019, 11, 13, 5, 0, tzinfo=UTC)
    assert [(e.article_id, e.user, e.at) for e in views] == [
        ("N1", "U1", first_u1 - timedelta(seconds=1)),
        ("N2", "U1", first_u1 - timedelta(seconds=1)),
    ]
    first = record_events([path], tmp_path / "catalogue.sqlite")
    assert (first.added, first.already_stored) == (4, 0)  # two views, two clicks
    assert record_events([path], tmp_path / "catalogue.sqlite").added == 0


# --- popularity ----------------------------------------------------------------------------
def _batch(ids: list[str], clicks: list[bool], days: list[float], first_seq: int) -> EventBatch:
    return EventBatch(
        seq=np.arange(first_seq, first_seq + len(ids)),
        article_ids=ids,
        is_click=np.array(clicks),
        at_ts=T0.timestamp() + np.array(days) * SECONDS_PER_DAY,
    )


def test_counts_decay_by_half_per_half_life_before_the_newest_event() -> None:
    counts = DecayedCounts(half_life_days=1.0, click_weight=2.0)
    counts.add(_batch(["a", "a"], [False, True], [0.0, 1.0], 1))
    assert counts.get("a") == pytest.approx(1 * 0.5 + 2 * 1.0)
    counts.add(_batch(["b"], [False], [2.0], 3))  # a day later: a's count halves
    assert (counts.get("a"), counts.get("b"), counts.last_seq) == (pytest.approx(1.25), 1.0, 3)


def test_percentile_gives_mid_ranks_among_read_articles_and_zero_to_unread() -> None:
    got = percentile_popularity(np.array([0.0, 5.0, 5.0, 10.0]))
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5, 1.0])


def test_one_viral_article_does_not_flatten_the_rest_under_either_method() -> None:
    counts = np.array([10.0] * 200 + [1_000_000.0])
    for method in ("log", "percentile"):
        signal = popularity_signal(
            counts, np.full(201, np.nan), 0.0, method=method, half_life_days=7
        )
        assert signal[0] >= 0.49, method


def test_a_new_unread_article_starts_at_the_prior_which_fades_with_age() -> None:
    # Percentile: 4 -> 0.5, 8 -> 1.0; prior = their median 0.75. Article 0 is brand new,
    # article 3 two half-lives old (0.75 / 4), article 4 undated (no prior).
    counts = np.array([0.0, 4.0, 8.0, 0.0, 0.0])
    newest = 100 * SECONDS_PER_DAY
    published = np.array([newest, 0.0, 0.0, newest - 14 * SECONDS_PER_DAY, np.nan])
    got = popularity_signal(counts, published, newest, method="percentile", half_life_days=7)
    np.testing.assert_allclose(got, [0.75, 0.5, 1.0, 0.1875, 0.0])


# --- in the engine -------------------------------------------------------------------------
POPULAR = {**PLAIN, "w_sim": 0.0, "w_pop": 1.0, "popularity_refresh_seconds": 0.0}
DOCS = [
    Doc("S", "Storm hits the coast", (1, 0, 0), published_at="2026-09-01T00:00:00+00:00"),
    Doc("B", "Storm damage counted", (0.9, 0.43589, 0), published_at="2026-09-01T00:00:00+00:00"),
    Doc("C", "Flood warnings issued", (0.8, 0, 0.6), published_at="2026-09-01T00:00:00+00:00"),
    Doc("N", "Harbour closed to ferries", (0.6, 0.8, 0), published_at="2026-09-10T11:00:00+00:00"),
]


def _related(engine: Engine) -> list[str]:
    lists = engine.lists_for(
        "S", ListRequest(k_more=0, k_related=3, weights=Weights({"popularity": 1.0}))
    )
    return [i.article.id for i in lists.related]


def test_events_recorded_while_running_raise_popularity(tmp_path: Path) -> None:
    settings = build_home(tmp_path / "home", DOCS, **POPULAR)
    engine = Engine(settings, clock=lambda: T0.timestamp())
    assert _related(engine) == ["B", "C", "N"]  # no reads at all: ties keep similarity order
    generation = engine.generation
    engine.record_events([Event("C", "view", T0 - timedelta(hours=2))] * 3)
    engine.refresh()
    assert engine.generation > generation
    assert _related(engine)[0] == "C"
    engine.close()


def test_a_new_article_without_events_is_not_pushed_to_the_bottom(tmp_path: Path) -> None:
    # B and C were read; N appeared an hour before the newest event and has no reads yet.
    settings = build_home(tmp_path / "home", DOCS, **POPULAR)
    with EventStore(settings.catalogue_path) as store:
        store.add([Event("C", "view", T0)] * 3 + [Event("B", "view", T0)])
    engine = Engine(settings, clock=lambda: T0.timestamp())
    assert _related(engine) == ["C", "N", "B"]
    engine.close()


def test_events_command_feeds_the_next_lists(tmp_path: Path) -> None:
    settings = build_home(tmp_path / "home", DOCS, **POPULAR)
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "article_id": "B",
                    "kind": "click",
                    "at": f"2026-09-10T1{i}:00:00Z",
                    "user": f"u{i}",
                }
            )
            + "\n"
            for i in range(2, 5)
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["events", str(path), "--home", str(settings.home)])
    assert result.exit_code == 0 and "stored 3 events" in result.output
    engine = Engine(make_settings(settings.home, **POPULAR), clock=lambda: T0.timestamp())
    assert _related(engine)[0] == "B"
    engine.close()


def test_events_command_fails_when_nothing_can_be_read(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"article_id": "B"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["events", str(path), "--home", str(tmp_path / "home")])
    assert result.exit_code == 2 and "events.jsonl:1" in result.output


def test_candidate_popularity_is_a_percentile_among_the_lists_candidates(tmp_path: Path) -> None:
    # S's nearest are B, C, D (read 1, 2 and 3 times), E and twelve unread fillers; three
    # articles far from S were read far more. Over every article B, C and D sit at the bottom of
    # the six read ones (mid-ranks 1/6, 2/6, 3/6); among S's candidates they spread over 1/3,
    # 2/3 and 1.
    near = [
        Doc(d.id, d.title, (*d.vector, 0), popularity=count)
        for d, count in zip(STORM_DOCS, (0.0, 1.0, 2.0, 3.0, 0.0), strict=True)
    ]
    # A list of 3 searches at least 4 x (3 + the source) nearest: B to E and the fillers.
    fillers = [Doc(f"X{k}", f"Coast news {k}", (0.5, 0, 0.05 * k, 0.8)) for k in range(12)]
    far = [
        Doc(name, f"Unrelated story {name}", (0, 0, 0, 1), popularity=100.0 * i)
        for i, name in enumerate(("F", "G", "H"), start=1)
    ]
    request = ListRequest(
        k_more=0,
        k_related=3,
        explain=True,
        weights=Weights({"similarity": 0.001, "popularity": 1.0}),
    )
    found: dict[str, dict[str, float]] = {}
    for method in ("percentile", "candidates"):
        settings = build_home(
            tmp_path / method,
            near + fillers + far,
            **{**POPULAR, "popularity_normalisation": method, "candidates": 10},
            related_floor_quantile=0.0,  # the twelve fillers alike would set a high floor
            popular_candidates=0,
            coread_candidates=0,
        )
        engine = Engine(settings)
        related = engine.lists_for("S", request).related
        engine.close()
        found[method] = {i.article.id: i.parts["popularity"] for i in related}
    assert found["percentile"] == pytest.approx({"D": 3 / 6, "C": 2 / 6, "B": 1 / 6}, abs=1e-5)
    assert found["candidates"] == pytest.approx({"D": 1.0, "C": 2 / 3, "B": 1 / 3}, abs=1e-5)
