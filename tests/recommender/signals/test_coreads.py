"""Specification of co-reading ("readers of this also read"): learnt from the events stored with
their reader, folded in incrementally, weighted by the shrunk cosine of the reader sets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.events import Event, EventStore
from recommender.ranking.scoring import Weights, score
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.signals.coreads import CoReads
from tests.handmade import PLAIN, Doc, build_home

T0 = datetime(2026, 9, 10, 12, tzinfo=UTC)


def _reads(*pairs: tuple[str | None, str]) -> list[Event]:
    return [
        Event(article, "view", T0 + timedelta(minutes=i), user)
        for i, (user, article) in enumerate(pairs)
    ]


def _fold(coreads: CoReads, store: EventStore) -> None:
    for batch in store.since(coreads.last_seq):
        coreads.add(batch)


def test_weight_is_shared_readers_over_root_of_reader_counts_plus_shrink(tmp_path: Path) -> None:
    # u1 reads a, b; u2 reads a, b, c; u3 reads a. Readers: a 3, b 2, c 1.
    # Pairs: a-b 2, a-c 1, b-c 1. With shrink 1: a-b 2 / (sqrt(6) + 1), a-c 1 / (sqrt(3) + 1).
    coreads = CoReads(window=10, shrink=1.0)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads(("u1", "a"), ("u1", "b"), ("u2", "a")))
        _fold(coreads, store)  # the first half, then only what is new
        store.add(_reads(("u2", "b"), ("u2", "c"), ("u3", "a")))
        _fold(coreads, store)
    assert coreads.neighbours("a") == [
        ("b", pytest.approx(2 / (math.sqrt(6) + 1))),
        ("c", pytest.approx(1 / (math.sqrt(3) + 1))),
    ]
    assert (coreads.readers("a"), coreads.pairs("b", "c"), coreads.last_seq) == (3, 1, 6)
    assert coreads.pair_count() == 6  # a-b, a-c and b-c, both ways


def test_a_reread_counts_only_after_it_left_the_readers_recent_reads(tmp_path: Path) -> None:
    # window 2: a, b, a (still recent: nothing), c (pairs c-a, c-b; a leaves), a (pairs a-b, a-c).
    coreads = CoReads(window=2, shrink=0.0)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads(("u", "a"), ("u", "b"), ("u", "a"), ("u", "c"), ("u", "a")))
        _fold(coreads, store)
    got = (coreads.readers("a"), coreads.pairs("a", "b"), coreads.pairs("a", "c"))
    assert got == (2, 2, 2)
    assert coreads.pairs("b", "c") == 1


def test_events_without_a_reader_pair_nothing_but_are_folded(tmp_path: Path) -> None:
    coreads = CoReads(window=10, shrink=0.0)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads((None, "a"), (None, "b")))
        _fold(coreads, store)
    assert (coreads.neighbours("a"), coreads.readers("a"), coreads.last_seq) == ([], 0, 2)


def test_equal_weights_rank_by_article_id_and_limit_keeps_the_best(tmp_path: Path) -> None:
    coreads = CoReads(window=10, shrink=0.0)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads(("u", "s"), ("u", "z"), ("u", "m"), ("v", "s"), ("v", "y")))
        _fold(coreads, store)
    # readers s 2, z 1, m 1, y 1; each pair with s once: 1 / sqrt(2) for all three.
    assert [a for a, _ in coreads.neighbours("s")] == ["m", "y", "z"]
    assert [a for a, _ in coreads.neighbours("s", limit=2)] == ["m", "y"]


@pytest.mark.parametrize(("window", "shrink", "name"), [(0, 1.0, "window"), (5, -1.0, "shrink")])
def test_bad_window_or_shrink_is_refused_by_name(window: int, shrink: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        CoReads(window=window, shrink=shrink)


def test_coread_part_is_its_weight_times_the_coread_weight_and_adds_to_the_score() -> None:
    signals = {
        name: np.array([value], dtype=np.float32)
        for name, value in (
            ("cosine", 0.5),
            ("lexical", 0.0),
            ("popularity", 0.25),
            ("coread", 0.125),
        )
    }
    weights = Weights({"similarity": 1.0, "popularity": 2.0, "coread": 4.0})
    scores = score(signals, weights, lexical_share=0.0)
    assert (scores.of(0)["coread"], scores.total[0]) == (0.5, pytest.approx(0.5 + 0.5 + 0.5))


def test_what_the_sources_readers_also_read_leads_related_with_its_part_shown(
    tmp_path: Path,
) -> None:
    docs = [
        Doc("S", "Storm hits the coast", (1, 0, 0)),
        Doc("B", "Storm damage counted", (0.9, 0.43589, 0)),
        Doc("C", "Flood warnings issued", (0.8, 0, 0.6)),
        Doc("F", "Cup final tickets", (0, 0, 1)),  # cosine 0 with S
    ]
    settings = build_home(
        tmp_path / "home",
        docs,
        **PLAIN,
        w_coread=2.0,
        coread_shrink=2.0,
        popularity_refresh_seconds=0.0,
    )
    engine = Engine(settings)
    engine.record_events(_reads(("u1", "S"), ("u1", "F"), ("u2", "S"), ("u2", "F")))
    engine.refresh()
    lists = engine.lists_for("S", ListRequest(k_more=0, k_related=3, explain=True))
    engine.close()
    # F: 2 * 2 / (sqrt(2 * 2) + 2) = 1.0, above B's cosine 0.9 and C's 0.8.
    assert [item.article.id for item in lists.related] == ["F", "B", "C"]
    assert lists.related[0].parts is not None
    assert (lists.related[0].parts["coread"], lists.related[1].parts["coread"]) == (1.0, 0.0)


def test_a_requests_coread_weight_replaces_the_configured_one(tmp_path: Path) -> None:
    docs = [
        Doc("S", "Storm hits the coast", (1, 0, 0)),
        Doc("B", "Storm damage counted", (0.9, 0.43589, 0)),
        Doc("F", "Cup final tickets", (0, 0, 1)),
    ]
    settings = build_home(
        tmp_path / "home", docs, **PLAIN, w_coread=2.0, popularity_refresh_seconds=0.0
    )
    engine = Engine(settings)
    engine.record_events(_reads(("u1", "S"), ("u1", "F"), ("u2", "S"), ("u2", "F")))
    engine.refresh()
    weights = Weights.from_settings(settings).overridden({"w_coread": 0.0})
    lists = engine.lists_for("S", ListRequest(k_more=0, k_related=2, weights=weights))
    engine.close()
    # Without its co-read part F scores its cosine, 0, below B's 0.9.
    assert [item.article.id for item in lists.related] == ["B", "F"]


def test_an_article_keeps_its_most_co_read_partners(tmp_path: Path) -> None:
    # s is read with p1 by 3 readers, with p2 by 2, and once each with f0..f9; at 2 partners
    # kept, s's partners are pruned to the two most co-read whenever it holds more than 4.
    reads = [(f"u{i}", "s") for i in range(3)] + [(f"u{i}", "p1") for i in range(3)]
    reads += [(f"v{i}", "s") for i in range(2)] + [(f"v{i}", "p2") for i in range(2)]
    reads += [(f"w{i}", "s") for i in range(10)] + [(f"w{i}", f"f{i}") for i in range(10)]
    coreads = CoReads(window=10, shrink=0.0, partners=2)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads(*reads))
        _fold(coreads, store)
    kept = [article for article, _ in coreads.neighbours("s")]
    assert len(kept) <= 4 and kept[:2] == ["p1", "p2"]
    assert (coreads.pairs("s", "p1"), coreads.pairs("s", "p2"), coreads.readers("s")) == (3, 2, 15)


def test_the_reader_idle_longest_starts_a_new_window(tmp_path: Path) -> None:
    # Two readers are kept: a reads x; b reads x; a reads y (a is now the most recent); c reads
    # x, so b, idle the longest, is dropped; b's read of y then pairs with nothing.
    coreads = CoReads(window=10, shrink=0.0, readers=2)
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add(_reads(("a", "x"), ("b", "x"), ("a", "y"), ("c", "x"), ("b", "y")))
        _fold(coreads, store)
    assert coreads.pairs("x", "y") == 1  # only a's; without the bound b's would make it 2
    assert coreads.readers("y") == 2


@pytest.mark.parametrize("name", ["partners", "readers"])
def test_a_bound_below_one_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        CoReads(window=5, shrink=1.0, **{name: 0})
