"""Specification of explanations: each item's parts add up to its score exactly, and the terms
and names an item shares with its source are shown."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.serving.views import lists_view
from recommender.signals.terms import TermStatistics, shared_terms, terms_of
from tests.conftest import make_settings
from tests.handmade import PLAIN, STORM_DOCS, build_home

# Cosines to S: B .9, C .8, D .6, E .3; cos(B, C) = .72, cos(B, E) = .27, cos(B, D) = .8871.
DOCS = STORM_DOCS


def test_the_diversity_penalty_is_a_part_of_the_score(tmp_path: Path) -> None:
    # lambda 0.5: penalty weight 1. B leads with 0.9; then C scores 0.8 - 0.72 = 0.08 against
    # D 0.6 - 0.8871 and E 0.3 - 0.27 = 0.03.
    settings = build_home(tmp_path / "home", DOCS, **{**PLAIN, "mmr_lambda": 0.5})
    engine = Engine(settings)
    related = engine.lists_for("S", ListRequest(k_more=0, k_related=2, explain=True)).related
    engine.close()
    assert [i.article.id for i in related] == ["B", "C"]
    assert related[1].parts == pytest.approx(
        # Only the signals weighed (w_rec = w_pop = 0 here) are parts.
        {"similarity": 0.8, "lexical": 0.0, "coread": 0.0, "diversity": -0.72},
        abs=1e-5,
    )
    assert related[1].score == pytest.approx(0.08, abs=1e-5)


def test_parts_add_up_to_the_score_exactly_in_both_lists(sample_home: Path) -> None:
    engine = Engine(make_settings(sample_home, mmr_lambda=0.7))
    for source in ("sample-001", "sample-037", "sample-059"):
        lists = engine.lists_for(source, ListRequest(k_more=5, k_related=5, explain=True))
        view = lists_view(lists, explain=True)
        for item in view["more_like_this"] + view["related"]:
            parts = item["explanation"]["parts"]
            assert math.fsum(parts.values()) == pytest.approx(item["score"], abs=1e-9)
        assert set(view["related"][0]["explanation"]["parts"]) == {
            "similarity",
            "lexical",
            "recency",
            "popularity",
            "coread",
            "diversity",
        }
        # More like this: similarity and same-story evidence (shared names).
        assert set(view["more_like_this"][0]["explanation"]["parts"]) == {
            "similarity",
            "lexical",
            "story",
        }
    engine.close()


def test_explanations_name_what_an_item_shares_with_its_source(sample_home: Path) -> None:
    engine = Engine(make_settings(sample_home))
    lists = engine.lists_for("sample-037", ListRequest(k_more=5, k_related=5, explain=True))
    engine.close()
    shared = {term for item in lists.more_like_this for term in item.shared_terms}
    assert {"Storm Ingrid", "River Marrow"} <= shared


def test_no_explanation_without_asking(sample_home: Path) -> None:
    engine = Engine(make_settings(sample_home))
    lists = engine.lists_for("sample-037", ListRequest(k_more=3, k_related=3))
    engine.close()
    assert all(i.parts is None and i.shared_terms == () for i in lists.related)


def test_shared_names_come_first_and_stopwords_never() -> None:
    source = terms_of("Storm Ingrid floods Lowmarsh", "The River Marrow rose and the town flooded.")
    item = terms_of("Clean-up after Storm Ingrid", "Volunteers cleared the River Marrow banks.")
    statistics = TermStatistics([source, item, terms_of("Budget vote", "The council voted.")])
    got = shared_terms(source, item, statistics)
    assert got[:2] == ("River Marrow", "Storm Ingrid")  # equal weights: alphabetical
    assert "the" not in got and "storm" not in got  # words inside a shared name are not repeated


def test_wire_headlines_in_capitals_give_no_names() -> None:
    # The capitalised headline names nothing; in the body "Bahia" is a name, "Showers" (first
    # word of a sentence) is not.
    terms = terms_of("BAHIA COCOA REVIEW", "Showers continued throughout the week in Bahia.")
    assert set(terms.names) == {"bahia"}
    assert {"bahia", "cocoa", "review", "showers"} <= set(terms.words)


def test_cli_explain_prints_the_parts(sample_home: Path) -> None:
    result = CliRunner().invoke(
        app, ["related", "sample-037", "-k", "2", "--explain", "--json", "--home", str(sample_home)]
    )
    assert result.exit_code == 0, result.output
    item = json.loads(result.output)["related"][0]
    assert math.fsum(item["explanation"]["parts"].values()) == pytest.approx(
        item["score"], abs=1e-9
    )
    assert item["explanation"]["shared_terms"]
