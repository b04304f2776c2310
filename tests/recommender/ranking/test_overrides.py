"""Specification of editorial overrides: stored with who, when and why; applied to every list;
expired ones stop applying by themselves; the same through the CLI and over HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from index import Catalogue, FormatVersionError
from index.overrides import OverrideError, OverrideStore, UnknownOverride
from recommender.cli import app
from recommender.ranking.overrides import EditorialRules, InvalidUntil, parse_until, place_pins
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import LiveServer, make_settings
from tests.handmade import PLAIN, STORM_DOCS, build_home

NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)
# Cosines to S: B .9, C .8, D .6, E .3 (hand-made unit vectors in 3 dimensions).
DOCS = STORM_DOCS


@pytest.fixture
def home(tmp_path: Path) -> Path:
    build_home(tmp_path / "home", DOCS, **PLAIN)
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[OverrideStore]:
    with OverrideStore(make_settings(home).catalogue_path) as overrides:
        yield overrides


class Clock:
    """A settable clock for the engine."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def _engine(home: Path, clock: Clock | None = None) -> Engine:
    return Engine(make_settings(home, **PLAIN), clock=clock or Clock(NOW))


def _lists(engine: Engine, source: str = "S") -> tuple[list[str], list[str]]:
    lists = engine.lists_for(source, ListRequest(k_more=2, k_related=2))
    return [i.article.id for i in lists.more_like_this], [i.article.id for i in lists.related]


def _shown(engine: Engine, source: str = "S") -> list[str]:
    more, related = _lists(engine, source)
    return more + related


# --- storage -------------------------------------------------------------------------------
def test_a_pin_is_stored_with_who_when_why_and_until(store: OverrideStore) -> None:
    until = NOW + timedelta(days=2)
    made = store.pin("S", "E", position=2, until=until, reason="context", by="ed")
    assert store.all() == [made]
    assert (made.kind, made.source_id, made.target_id, made.position) == ("pin", "S", "E", 2)
    assert (made.created_by, made.reason, made.until) == ("ed", "context", until)
    assert abs((datetime.now(UTC) - made.created_at).total_seconds()) < 60


def test_every_write_changes_the_revision(store: OverrideStore) -> None:
    before = store.rev()
    made = store.block("E", by="ed")
    after_block = store.rev()
    store.remove(made.id, by="ed")
    assert before < after_block < store.rev()


def test_a_removed_override_stays_on_record_but_not_in_force(store: OverrideStore) -> None:
    made = store.block("E", reason="legal", by="ed")
    removed = store.remove(made.id, by="chief")
    assert store.in_force() == []
    assert store.all() == [removed]
    assert removed.removed_by == "chief" and removed.removed_at is not None


def test_removing_an_unknown_or_removed_override_is_refused(store: OverrideStore) -> None:
    made = store.block("E", by="ed")
    store.remove(made.id, by="ed")
    with pytest.raises(UnknownOverride, match=str(made.id)):
        store.remove(made.id, by="ed")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.pin("S", "S", by="ed"), "own list"),
        (lambda s: s.pin("S", "E", position=0, by="ed"), "position"),
        (lambda s: s.pin("", "E", by="ed"), "source"),
        (lambda s: s.block("E", until=datetime(2026, 9, 1), by="ed"), "tz-aware"),
        (lambda s: s.block("E", by=" "), "author"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    store: OverrideStore, call: object, message: str
) -> None:
    with pytest.raises(OverrideError, match=message):
        call(store)  # type: ignore[operator]


def test_overrides_written_by_a_newer_newsrec_are_refused(home: Path) -> None:
    path = make_settings(home).catalogue_path
    OverrideStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'overrides_schema'")
    with pytest.raises(FormatVersionError, match="overrides"):
        OverrideStore(path)


def test_the_catalogue_still_opens_beside_the_override_tables(store: OverrideStore) -> None:
    store.block("E", by="ed")
    with Catalogue(store._path) as catalogue:
        assert catalogue.count() == len(DOCS)


# --- rules ---------------------------------------------------------------------------------
def test_until_a_date_means_through_the_end_of_that_day_utc() -> None:
    assert parse_until("2026-10-12") == datetime(2026, 10, 13, tzinfo=UTC)


def test_until_a_time_without_zone_is_utc() -> None:
    assert parse_until("2026-10-12T18:30") == datetime(2026, 10, 12, 18, 30, tzinfo=UTC)


def test_until_a_duration_counts_from_now() -> None:
    assert parse_until("36h", now=NOW) == NOW + timedelta(hours=36)
    assert parse_until("2w", now=NOW) == NOW + timedelta(days=14)


def test_until_nonsense_is_refused_naming_it() -> None:
    with pytest.raises(InvalidUntil, match="next tuesday"):
        parse_until("next tuesday")


def test_pins_take_their_places_and_the_ranked_items_fill_the_rest() -> None:
    assert place_pins([1, 2, 3, 4], [(9, 2)], k=4) == [1, 9, 2, 3]


def test_a_contested_place_goes_to_the_earlier_pin_and_the_next_free_place_to_the_other() -> None:
    assert place_pins([1, 2, 3], [(8, 1), (9, 1)], k=3) == [8, 9, 1]


def test_a_pin_beyond_the_end_lands_at_the_end() -> None:
    assert place_pins([1, 2], [(9, 5)], k=4) == [1, 2, 9]
    assert place_pins([1, 2, 3], [(8, 3), (9, 3)], k=3) == [1, 9, 8]


def test_rules_apply_only_while_in_force(store: OverrideStore) -> None:
    store.block("E", by="ed")
    store.block("D", source_id="S", until=NOW + timedelta(hours=1), by="ed")
    store.block("C", source_id="B", by="ed")
    rules = EditorialRules.of(store.in_force())
    assert rules.blocked("S", NOW) == {"E", "D"}
    assert rules.blocked("S", NOW + timedelta(hours=2)) == {"E"}
    assert rules.next_expiry(NOW) == NOW + timedelta(hours=1)


# --- applied by the engine -----------------------------------------------------------------
def test_without_overrides_the_lists_follow_the_scores(home: Path) -> None:
    engine = _engine(home)
    assert _lists(engine) == (["B", "C"], ["D", "E"])
    engine.close()


def test_a_pin_puts_its_target_at_its_place_in_related(home: Path, store: OverrideStore) -> None:
    store.pin("S", "B", position=2, by="ed")
    engine = _engine(home)
    more, related = _lists(engine)
    assert (more, related) == (["C", "D"], ["E", "B"])
    assert [
        i.pinned for i in engine.lists_for("S", ListRequest(k_more=0, k_related=2)).related
    ] == [
        False,
        True,
    ]
    engine.close()


def test_a_block_keeps_its_target_out_of_every_list(home: Path, store: OverrideStore) -> None:
    store.block("B", by="ed")
    engine = _engine(home)
    assert _lists(engine) == (["C", "D"], ["E"])
    assert "B" not in _shown(engine, "C")
    engine.close()


def test_a_block_for_one_source_leaves_other_lists_alone(home: Path, store: OverrideStore) -> None:
    store.block("B", source_id="S", by="ed")
    engine = _engine(home)
    assert "B" not in _shown(engine, "S")
    assert "B" in _shown(engine, "C")
    engine.close()


def test_a_block_beats_a_pin(home: Path, store: OverrideStore) -> None:
    store.pin("S", "E", position=1, by="ed")
    store.block("E", by="legal")
    engine = _engine(home)
    assert "E" not in _shown(engine)
    engine.close()


def test_an_expired_pin_stops_applying_by_itself(home: Path, store: OverrideStore) -> None:
    store.pin("S", "E", position=1, until=NOW + timedelta(minutes=5), by="ed")
    clock = Clock(NOW)
    engine = _engine(home, clock)
    assert _lists(engine)[1][0] == "E"
    generation = engine.generation
    clock.now += 600
    assert engine.generation > generation  # caches learn that lists changed
    assert _lists(engine) == (["B", "C"], ["D", "E"])
    engine.close()


def test_a_running_engine_picks_up_new_overrides_on_refresh(
    home: Path, store: OverrideStore
) -> None:
    engine = _engine(home)
    generation = engine.generation
    store.block("B", by="ed")
    engine.refresh()
    assert engine.generation > generation
    assert "B" not in _shown(engine)
    engine.close()


# --- through the CLI and HTTP --------------------------------------------------------------
def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_pin_block_list_and_remove(home: Path) -> None:
    _cli(
        "pin",
        "S",
        "E",
        "--position",
        "1",
        "--reason",
        "context",
        "--by",
        "ed",
        "--until",
        "7d",
        "--home",
        str(home),
    )
    _cli("block", "B", "--for", "S", "--reason", "legal", "--by", "chief", "--home", str(home))
    listed = json.loads(_cli("overrides", "--json", "--home", str(home)))
    assert [(o["kind"], o["target"], o["by"], o["reason"], o["active"]) for o in listed] == [
        ("pin", "E", "ed", "context", True),
        ("block", "B", "chief", "legal", True),
    ]
    assert listed[0]["until"] is not None
    related = json.loads(_cli("related", "S", "-k", "2", "--json", "--home", str(home)))
    assert related["related"][0]["id"] == "E"
    assert "B" not in [i["id"] for i in related["more_like_this"] + related["related"]]
    _cli("overrides", "remove", str(listed[1]["id"]), "--home", str(home))
    _cli("unpin", "S", "E", "--home", str(home))
    assert json.loads(_cli("overrides", "--json", "--home", str(home))) == []
    assert len(json.loads(_cli("overrides", "--all", "--json", "--home", str(home)))) == 2


def test_cli_refuses_to_pin_an_unknown_article(home: Path) -> None:
    result = CliRunner().invoke(app, ["pin", "S", "nope", "--home", str(home)])
    assert result.exit_code == 2 and "nope" in result.output


def test_cli_refuses_an_until_in_the_past(home: Path) -> None:
    result = CliRunner().invoke(app, ["block", "B", "--until", "2001-01-01", "--home", str(home)])
    assert result.exit_code == 2 and "past" in result.output


def _related_ids(server: LiveServer, source: str) -> list[str]:
    body = httpx.get(f"{server.url}/articles/{source}/related?k=5", timeout=10).json()
    return [i["id"] for i in body["more_like_this"] + body["related"]]


def _eventually(check: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_pins_blocks_and_expiry_apply_over_http(live_server: LiveServer, sample_home: Path) -> None:
    first = httpx.get(f"{live_server.url}/articles/sample-037/related?k=5", timeout=10).json()
    assert first["related"][0]["id"] != "sample-064"
    _cli("pin", "sample-037", "sample-064", "--position", "1", "--home", str(sample_home))
    assert _eventually(
        lambda: (
            httpx.get(f"{live_server.url}/articles/sample-037/related?k=5", timeout=10).json()[
                "related"
            ][0]["id"]
            == "sample-064"
        )
    )
    _cli("block", "sample-064", "--home", str(sample_home))
    assert _eventually(lambda: "sample-064" not in _related_ids(live_server, "sample-037"))
    shown = _related_ids(live_server, "sample-001")[0]
    with OverrideStore(make_settings(sample_home).catalogue_path) as store:
        store.block(shown, until=datetime.now(UTC) + timedelta(seconds=2), by="test")
    assert _eventually(lambda: shown not in _related_ids(live_server, "sample-001"))
    assert _eventually(lambda: shown in _related_ids(live_server, "sample-001"), timeout=10)
