"""The three lists mean what they say: Related is related, copies never show, Popular is popular.

Hand-made homes (vectors by hand, tests/handmade.py): 45 articles in 8 dimensions, so the
catalogue is large enough for Related's similarity floor to be calibrated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from index.events import Event
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.requests import ListRequest, parse_lists
from tests.handmade import PLAIN, Doc, build_home

WIRE_BODY = (
    "The coastguard said the storm surge reached the harbour wall shortly after midnight, "
    "flooding the lower quay and cutting power to two hundred homes. Crews worked through the "
    "night to clear debris from the ferry slipway before the morning tide."
)

_OTHERS = np.random.default_rng(7).normal(size=(40, 7))


def _elsewhere(k: int) -> tuple[float, ...]:
    # A random direction with nothing along S's axis: an article on another subject.
    return (0.0, *(float(x) for x in _OTHERS[k]))


#: The source S and three articles on its subject; forty on other subjects (random directions
#: away from S's); V, viral and on none of S's subject; R, a re-titled copy of S's body whose
#: vector is not close enough to count as a copy by cosine.
DOCS = [
    Doc("S", "Storm surge floods the lower quay", (1, 0, 0, 0, 0, 0, 0, 0), body=WIRE_BODY),
    Doc("B", "Storm damage counted along the coast", (0.95, 0.3, 0, 0, 0, 0, 0, 0)),
    Doc("C", "Ferry slipway cleared after the storm", (0.9, 0, 0.4, 0, 0, 0, 0, 0)),
    Doc("D", "Coastguard praises night crews", (0.85, 0.3, 0.3, 0, 0, 0, 0, 0)),
    Doc("R", "Quay flooded overnight", (0.8, 0, 0, 0.6, 0, 0, 0, 0), body=WIRE_BODY),
    *(Doc(f"F{k}", f"Football result {k}", _elsewhere(k), section="sport") for k in range(20)),
    *(Doc(f"M{k}", f"Market report {k}", _elsewhere(20 + k)) for k in range(20)),
    Doc("V", "Celebrity wedding photos", (0, 0.2, 0.1, 1, 0, 0, 0, 0), section="people"),
]


def _reads(article_id: str, readers: int, start: datetime) -> list[Event]:
    return [
        Event(article_id=article_id, kind="view", at=start + timedelta(minutes=k), user=f"u{k}")
        for k in range(readers)
    ]


def _engine(tmp_path: Path, **settings: object) -> Engine:
    home = build_home(
        tmp_path / "home",
        DOCS,
        **{**PLAIN, "popularity_refresh_seconds": 0.0, "popularity_half_life_days": 3650.0},
        **settings,
    )
    engine = Engine(home)
    start = datetime(2026, 9, 10, 13, tzinfo=UTC)
    engine.record_events(_reads("V", 500, start) + _reads("F1", 50, start) + _reads("B", 5, start))
    engine.refresh()
    return engine


def _ids(lists: RelatedLists) -> tuple[list[str], list[str], list[str]]:
    return (
        [i.article.id for i in lists.more_like_this],
        [i.article.id for i in lists.related],
        [i.article.id for i in lists.popular],
    )


def test_a_viral_article_with_no_topical_link_never_enters_related(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    for w_pop in (0.0, 1.0, 100.0):
        weights = Weights({"similarity": 1.0, "popularity": w_pop})
        lists = engine.lists_for("S", ListRequest(k_more=0, k_related=5, weights=weights))
        assert "V" not in _ids(lists)[1], w_pop
        assert set(_ids(lists)[1]) <= {"B", "C", "D"}
    engine.close()


def test_related_is_shorter_and_says_why_rather_than_padded(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    lists = engine.lists_for("S", ListRequest(k_more=0, k_related=10))
    engine.close()
    assert len(lists.related) == 3  # B, C and D: everything else is on other subjects
    assert "related to the source" in lists.short["related"]


def test_more_like_this_lists_nothing_below_its_floor_and_says_why(tmp_path: Path) -> None:
    # Sections aside (the rule below): content alone.
    engine = _engine(tmp_path, related_same_subject=False)
    floored = engine.lists_for("S", ListRequest(k_more=10, k_related=0))
    floor = engine.status()["more_like_this_floor"]
    engine.close()
    # Every other article is on another subject (cosine 0 with S): below the floor.
    assert [i.article.id for i in floored.more_like_this] == ["B", "C", "D"]
    assert "closer to the source than 80% of random pairs" in floored.short["more_like_this"]
    assert floor is not None and 0.0 < floor < 0.8

    unfloored = _engine(tmp_path / "off", more_floor_quantile=0.0, related_same_subject=False)
    padded = unfloored.lists_for("S", ListRequest(k_more=10, k_related=0))
    assert unfloored.status()["more_like_this_floor"] is None
    unfloored.close()
    assert len(padded.more_like_this) == 10  # switched off: the ten least unrelated


def test_below_its_floor_more_like_this_takes_only_what_the_newsroom_filed_with_the_source(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    lists = engine.lists_for("S", ListRequest(k_more=10, k_related=0))
    engine.close()
    ids = [i.article.id for i in lists.more_like_this]
    assert ids[:3] == ["B", "C", "D"]  # above the floor first, as they score
    # Then S's section ("news": the market reports), never sport or the viral people story.
    assert len(ids) == 10 and all(i.startswith("M") for i in ids[3:])


def test_popularity_reorders_what_is_related(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    plain = engine.lists_for("S", ListRequest(k_more=0, k_related=3))
    weights = Weights({"similarity": 1.0, "popularity": 10.0})
    popular_first = engine.lists_for("S", ListRequest(k_more=0, k_related=3, weights=weights))
    engine.close()
    assert _ids(plain)[1][0] == "B"  # closest
    assert _ids(popular_first)[1][0] == "B"  # read by 5: also the most read of the related
    assert sorted(_ids(plain)[1]) == sorted(_ids(popular_first)[1])


def test_a_retitled_copy_with_the_same_body_never_appears_in_the_sources_lists(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    lists = engine.lists_for("S", ListRequest(k_more=10, k_related=10, k_popular=10))
    engine.close()
    more, related, popular = _ids(lists)
    assert "R" not in more + related + popular
    # Its cosine with S (0.8) is below the story threshold: only the body matched it.
    assert float(np.dot([1, 0, 0, 0], [0.8, 0, 0, 0.6])) < 0.97


def test_popular_lists_the_most_read_without_the_source_or_what_the_others_show(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    lists = engine.lists_for("S", ListRequest(k_more=3, k_related=3, k_popular=3, explain=True))
    more, related, popular = _ids(lists)
    assert popular[:2] == ["V", "F1"]  # 500 and 50 readers; B (5) is already in a list
    assert not set(popular) & (set(more) | set(related) | {"S"})
    assert set(lists.popular[0].parts or {}) == {"popularity"}
    by_b = engine.lists_for("B", ListRequest(k_more=0, k_related=0, k_popular=5))
    engine.close()
    assert "B" not in _ids(by_b)[2]


def test_popular_can_be_limited_to_the_sources_section(tmp_path: Path) -> None:
    engine = _engine(tmp_path, popular_scope="section")
    lists = engine.lists_for("S", ListRequest(k_more=0, k_related=0, k_popular=5))
    engine.close()
    assert lists.popular
    assert all(i.article.section == "news" for i in lists.popular)  # V and F1 are not news


def test_a_page_asks_only_for_the_lists_it_shows() -> None:
    assert parse_lists("related, popular") == {"related", "popular"}
    for bad in ("related,sidebar", " , "):
        try:
            parse_lists(bad)
        except ValueError as exc:
            assert "list" in str(exc)
        else:
            raise AssertionError(bad)


def test_each_related_item_passed_the_gate_by_content_or_by_readers(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    floor = engine.state.gate.floor  # calibrated on this catalogue's random pairs
    assert np.isfinite(floor)
    lists = engine.lists_for("S", ListRequest(k_more=0, k_related=5, explain=True))
    engine.close()
    for item in lists.related:
        assert item.similarity >= 0.5, item.article.id


def test_popular_never_repeats_a_story_another_box_shows(tmp_path: Path) -> None:
    # B2 is B re-issued under the same title (a little further from S, so B is the member More
    # like this shows) and read by many: Popular would list it, but the story is on the page.
    b2 = Doc("B2", "Storm damage counted along the coast", (0.9, 0.3, 0.2, 0, 0, 0, 0, 0))
    docs = [*DOCS, b2]
    home = build_home(
        tmp_path / "home",
        docs,
        **{**PLAIN, "popularity_refresh_seconds": 0.0, "popularity_half_life_days": 3650.0},
    )
    engine = Engine(home)
    engine.record_events(_reads("B2", 100, datetime(2026, 9, 10, 13, tzinfo=UTC)))
    engine.refresh()
    lists = engine.lists_for("S", ListRequest(k_more=3, k_related=0, k_popular=5))
    engine.close()
    more, _, popular = _ids(lists)
    assert "B" in more and "B2" not in more
    assert not {"B", "B2"} & set(popular)
