"""Specification of the two lists: one item per story, never the source or a copy, filters.

The hand-made home (vectors in 4 dimensions; cosines to the source S worked out by hand):

    S  "Storm hits the coast"            (1, 0, 0, 0)           the source
    A  "UPDATE 1-Storm hits the coast"   (1, .02, 0, 0)         same title as S: a copy
    A2 "Gale lashes seafront"            (1, .01, .01, 0)       cos .9999 with S: a copy
    B  "Storm damage counted"            (.9, .436, 0, 0)       cos .9000
    C  "Storm damage counted again"      (.89, .45, .03, 0)     cos .8920; cos(B, C) .9994
    D  "Flood warnings issued"           (.8, 0, .6, 0)         cos .8
    E  "Harbour closed to ferries"       (.6, 0, 0, .8)         cos .6, section transport
    F  "Haushalt beschlossen"            (.1, 0, 0, 1)          cos .0995, politics, German
    G  "Festival opens"                  (.05, 0, 1, 0)         cos .0499, culture, from 2020
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from index import ArticleRecord
from recommender.embedding.embedder import Embedder
from recommender.ingestion.ingest import ingest
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine, RelatedLists
from recommender.serving.facets import UnknownFilterValue
from recommender.serving.requests import ListRequest
from recommender.signals.recency import recency_from_now
from recommender.signals.stories import normalise_title
from tests.conftest import make_settings
from tests.handmade import PLAIN, Doc, build_home, unit

NOW = datetime(2026, 9, 20, 12, tzinfo=UTC).timestamp()
DOCS = [
    Doc("S", "Storm hits the coast", (1, 0, 0, 0)),
    Doc("A", "UPDATE 1-Storm hits the coast", (1, 0.02, 0, 0)),
    Doc("A2", "Gale lashes seafront", (1, 0.01, 0.01, 0)),
    Doc("B", "Storm damage counted", (0.9, 0.436, 0, 0)),
    Doc("C", "Storm damage counted again", (0.89, 0.45, 0.03, 0)),
    Doc("D", "Flood warnings issued", (0.8, 0, 0.6, 0)),
    Doc("E", "Harbour closed to ferries", (0.6, 0, 0, 0.8), section="transport", popularity=5),
    Doc(
        "F",
        "Haushalt beschlossen",
        (0.1, 0, 0, 1),
        section="politics",
        language="de",
        popularity=500,
    ),
    Doc(
        "G",
        "Festival opens",
        (0.05, 0, 1, 0),
        section="culture",
        published_at="2020-06-01T00:00:00+00:00",
        popularity=50,
    ),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "home"
    build_home(path, DOCS, **PLAIN)
    return path


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    # E, F and G are filed in sections of their own, there for the filters: the section rule of
    # Related's gate (tested in test_sample_lists.py) would keep them out of S's Related.
    engine = Engine(make_settings(home, **PLAIN, related_same_subject=False), clock=lambda: NOW)
    yield engine
    engine.close()


def _ids(lists: RelatedLists) -> tuple[list[str], list[str]]:
    return (
        [i.article.id for i in lists.more_like_this],
        [i.article.id for i in lists.related],
    )


def test_more_like_this_skips_copies_of_the_source_and_second_members_of_a_story(
    engine: Engine,
) -> None:
    more, _ = _ids(engine.lists_for("S", ListRequest(k_more=2, k_related=0)))
    assert more == ["B", "D"]


def test_related_does_not_repeat_a_story_shown_in_more_like_this(engine: Engine) -> None:
    _, related = _ids(engine.lists_for("S", ListRequest(k_more=2, k_related=3)))
    assert related == ["E", "F", "G"]


def test_related_alone_shows_each_story_once_by_its_best_member(engine: Engine) -> None:
    _, related = _ids(engine.lists_for("S", ListRequest(k_more=0, k_related=3)))
    assert related == ["B", "D", "E"]


def test_neither_list_ever_holds_the_source_or_a_copy(engine: Engine) -> None:
    more, related = _ids(engine.lists_for("S", ListRequest(k_more=10, k_related=10)))
    assert not {"S", "A", "A2"} & set(more + related)
    assert sorted(more + related) == ["B", "D", "E", "F", "G"]


def test_an_excluded_article_takes_its_story_with_it(engine: Engine) -> None:
    more, _ = _ids(
        engine.lists_for("S", ListRequest(k_more=2, k_related=0, exclude_ids=frozenset({"B"})))
    )
    assert more == ["D", "E"]


def test_section_filter_keeps_only_that_section(engine: Engine) -> None:
    request = ListRequest(k_more=0, k_related=5, sections=frozenset({"transport"}))
    assert _ids(engine.lists_for("S", request))[1] == ["E"]


def test_a_section_no_article_has_is_refused_naming_the_known_ones(engine: Engine) -> None:
    request = ListRequest(k_more=5, k_related=5, sections=frozenset({"sport"}))
    with pytest.raises(UnknownFilterValue) as refused:
        engine.lists_for("S", request)
    assert str(refused.value) == (
        "unknown section 'sport' (did you mean 'transport'?); "
        "the sections are: culture, news, politics, transport"
    )


def test_excluded_sections_are_left_out(engine: Engine) -> None:
    request = ListRequest(k_more=0, k_related=5, exclude_sections=frozenset({"news"}))
    assert _ids(engine.lists_for("S", request))[1] == ["E", "F", "G"]


def test_language_filter_keeps_only_that_language(engine: Engine) -> None:
    request = ListRequest(k_more=5, k_related=0, language="de")
    assert _ids(engine.lists_for("S", request))[0] == ["F"]


def test_max_age_counts_days_back_from_the_clock(engine: Engine) -> None:
    request = ListRequest(k_more=0, k_related=10, max_age_days=30)
    assert "G" not in _ids(engine.lists_for("S", request))[1]


def test_weight_overrides_change_the_ranking(engine: Engine) -> None:
    # Popularity alone: log-normalised counts F 500 -> 1.0, G 50 -> 0.634, E 5 -> 0.289;
    # unread articles 10 days old get the fading prior 2 ** (-10 / 7) * 0.634 = 0.235.
    request = ListRequest(k_more=0, k_related=3, weights=Weights({"popularity": 1.0}))
    assert _ids(engine.lists_for("S", request))[1] == ["F", "G", "E"]


def test_a_draft_gets_lists_without_a_source(engine: Engine) -> None:
    request = ListRequest(k_more=2, k_related=0)
    chosen = engine._lists(engine.state, unit(1, 0, 0, 0), None, set(), request)
    lists = engine._answer(engine.state, chosen, request)
    # Nothing is a copy of a draft: the most similar articles lead, one per story.
    assert _ids(lists)[0] == ["S", "B"]


def test_reissue_of_a_sample_article_is_not_in_its_lists(sample_home: Path) -> None:
    with_engine = Engine(make_settings(sample_home))
    try:
        for source, reissue in (
            ("sample-037", "sample-038"),
            ("sample-044", "sample-045"),
            ("sample-067", "sample-068"),
        ):
            more, related = _ids(
                with_engine.lists_for(source, ListRequest(k_more=10, k_related=10))
            )
            assert reissue not in more + related, source
    finally:
        with_engine.close()


def test_a_sample_list_shows_at_most_one_of_an_original_and_its_reissue(
    sample_home: Path,
) -> None:
    with_engine = Engine(make_settings(sample_home))
    try:
        more, related = _ids(
            with_engine.lists_for("sample-039", ListRequest(k_more=10, k_related=10))
        )
        assert len({"sample-037", "sample-038"} & set(more + related)) == 1
        more, related = _ids(
            with_engine.lists_for("sample-068", ListRequest(k_more=10, k_related=10))
        )
        assert "sample-067" not in more + related
    finally:
        with_engine.close()


_REUTERS_LABELS = ("topics", "places", "people", "orgs", "exchanges")


@pytest.mark.slow
def test_no_reuters_list_holds_two_members_of_one_story(
    shared_data: Path, embedder: Embedder, tmp_path: Path
) -> None:
    # Wire series that repeat one headline (daily reports, re-issues) and stories around them:
    # without story grouping their lists would be full of copies.
    with gzip.open(shared_data / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as handle:
        stories = [json.loads(line) for line in handle]
    by_title: dict[str, list[dict[str, object]]] = {}
    for story in stories:
        by_title.setdefault(normalise_title(str(story["title"])), []).append(story)
    series = [s for group in by_title.values() if len(group) >= 4 for s in group[:8]]
    chosen = series[:120] + stories[:60]
    path = tmp_path / "slice.jsonl"
    path.write_text(
        "".join(
            json.dumps({k: v for k, v in s.items() if k not in _REUTERS_LABELS}) + "\n"
            for s in chosen
        ),
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "home")
    ingest([path], settings, lambda: embedder)
    engine = Engine(settings, embedder=embedder)
    index = engine.state.index
    assert index is not None
    threshold = settings.story_threshold

    def one_story(a: ArticleRecord, b: ArticleRecord) -> bool:
        vectors = index.reconstruct(np.array([a.doc_id, b.doc_id]))
        same_title = normalise_title(a.title) == normalise_title(b.title) != ""
        return same_title or float(vectors[0] @ vectors[1]) >= threshold

    checked = 0
    for story in chosen[::3]:
        lists = engine.lists_for(str(story["id"]), ListRequest(k_more=5, k_related=5))
        assert lists.source is not None
        shown = [i.article for i in lists.more_like_this + lists.related]
        assert not any(one_story(lists.source, a) for a in shown), story["id"]
        pairs = [(a, b) for n, a in enumerate(shown) for b in shown[n + 1 :]]
        assert not any(one_story(a, b) for a, b in pairs), story["id"]
        checked += 1
    engine.close()
    assert checked == 60


def test_recency_from_now_halves_per_half_life_and_treats_the_future_as_new() -> None:
    day = 86_400.0
    got = recency_from_now(
        np.array([10 * day, 8 * day, 12 * day, np.nan]), 10 * day, half_life_days=2
    )
    np.testing.assert_allclose(got, [1.0, 0.5, 1.0, 0.0])


def test_live_pages_can_rank_by_age_from_now(tmp_path: Path) -> None:
    docs = [
        Doc("S", "Storm hits the coast", (1, 0, 0), published_at="2026-09-19T00:00:00+00:00"),
        Doc(
            "old",
            "Storm damage counted",
            (0.9, 0.43589, 0),
            published_at="2026-09-19T00:00:00+00:00",
        ),
        Doc(
            "new", "Flood warnings issued", (0.8, 0, 0.6), published_at="2026-09-20T11:00:00+00:00"
        ),
    ]
    around = {**PLAIN, "w_sim": 0.0, "w_rec": 1.0}
    settings = build_home(tmp_path / "home", docs, **around)
    request = ListRequest(k_more=0, k_related=2)
    source_mode = Engine(settings, clock=lambda: NOW)
    # Around the source, "old" (published with it) beats "new" (a day and a half later).
    assert _ids(source_mode.lists_for("S", request))[1] == ["old", "new"]
    source_mode.close()
    live = Engine(
        make_settings(settings.home, **around, recency_reference="now"), clock=lambda: NOW
    )
    assert _ids(live.lists_for("S", request))[1] == ["new", "old"]
    live.close()
