"""``newsrec related`` filters by metadata (``--author``, ``--kind``, ``--tag``, ``--field``),
and a filter value no article has ends the command in one line naming the known values."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index import Catalogue
from recommender.cli import app
from tests.handmade import PLAIN, STORM_DOCS, build_home

runner = CliRunner()

METADATA = {
    "B": {"kind": "news", "author": "Ana Ruiz", "tags": ("storm",)},
    "C": {"kind": "opinion", "fields": (("desk", "metro"),)},
    "D": {"kind": "news", "fields": (("desk", "harbour"),), "tags": ("storm", "ferries")},
}


def _home(tmp_path: Path) -> Path:
    settings = build_home(tmp_path / "home", STORM_DOCS, **PLAIN)
    with Catalogue(settings.catalogue_path) as catalogue:
        records = [catalogue.get(i) for i in METADATA]
        catalogue.upsert(
            [replace(r, **METADATA[r.id]) for r in records if r is not None],  # type: ignore[arg-type]
            {},
        )
    return settings.home


def _listed(home: Path, *options: str) -> set[str]:
    result = runner.invoke(
        app, ["related", "S", "--home", str(home), "--json", "-k", "10", *options]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    return {i["id"] for i in body["more_like_this"] + body["related"]}


def test_metadata_options_filter_the_lists(tmp_path: Path) -> None:
    home = _home(tmp_path)
    assert _listed(home, "--kind", "news") == {"B", "D"}
    assert _listed(home, "--kind", "news", "--field", "desk=harbour") == {"D"}
    assert _listed(home, "--author", "ana ruiz") == {"B"}
    assert _listed(home, "--tag", "ferries", "--tag", "storm") == {"B", "D"}


def test_the_json_shows_each_items_metadata(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["related", "S", "--home", str(_home(tmp_path)), "--json", "--kind", "opinion"]
    )
    (item,) = json.loads(result.output)["more_like_this"]
    assert (item["id"], item["kind"], item["author"], item["fields"]) == (
        "C",
        "opinion",
        None,
        {"desk": "metro"},
    )


def test_an_unknown_section_exits_2_with_one_line_naming_the_sections(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["related", "S", "--home", str(_home(tmp_path)), "--section", "nws"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "newsrec: error: unknown section 'nws' (did you mean 'news'?); the sections are: news"
    )


def test_an_unknown_kind_exits_2_naming_the_kinds(tmp_path: Path) -> None:
    result = runner.invoke(app, ["related", "S", "--home", str(_home(tmp_path)), "--kind", "vdeo"])
    assert result.exit_code == 2
    assert "unknown kind 'vdeo'; the kinds are: news, opinion" in result.output


def test_a_field_filter_without_a_value_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["related", "S", "--home", str(_home(tmp_path)), "--field", "desk"])
    assert result.exit_code == 2
    assert "field filter 'desk': expected NAME=VALUE" in result.output


@pytest.mark.slow  # loads the model to embed the draft
def test_like_takes_the_same_filters_and_refuses_an_unknown_value(sample_home: Path) -> None:
    draft = "Council argues over who pays for the Lanthorn Bridge repairs"
    result = runner.invoke(
        app, ["like", draft, "--home", str(sample_home), "--json", "--section", "politics"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    shown = body["more_like_this"] + body["related"] + body["popular"]
    assert shown and {i["section"] for i in shown} == {"politics"}
    typo = runner.invoke(app, ["like", draft, "--home", str(sample_home), "--section", "polítics"])
    assert typo.exit_code == 2
    assert "unknown section" in typo.output and "politics" in typo.output
