"""``newsrec find``, and ``newsrec pin --list``, over a copy of the sample home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_find_prints_the_article_whose_headline_holds_the_words(sample_home_template: Path) -> None:
    code, out = run("find", "lanthorn CRACKS", "--home", str(sample_home_template))
    assert code == 0, out
    assert "sample-002" in out and "Lanthorn" in out
    assert "sample-001" not in out


def test_find_json_is_the_http_answer_s_shape(sample_home_template: Path) -> None:
    code, out = run("find", "bridge", "-n", "2", "--json", "--home", str(sample_home_template))
    assert code == 0, out
    found = json.loads(out)
    assert found["query"] == "bridge" and found["more"] is True
    assert len(found["articles"]) == 2
    assert {"id", "title", "url", "published_at"} <= set(found["articles"][0])


def test_find_by_url_gives_that_article_first(sample_home_template: Path) -> None:
    url = "https://news.example.com/weather/kestrel-reservoir-falls-to-41-as-dry-spell-drags-on"
    code, out = run("find", url, "--json", "--home", str(sample_home_template))
    assert code == 0, out
    assert json.loads(out)["articles"][0]["id"] == "sample-004"


def test_find_with_no_match_says_so_and_exits_1(sample_home_template: Path) -> None:
    code, out = run("find", "zeppelin", "--home", str(sample_home_template))
    assert code == 1
    assert "no published article has 'zeppelin' in its headline or URL" in out


@pytest.mark.parametrize("query", ["", "   "])
def test_find_refuses_an_empty_query_with_exit_2(sample_home_template: Path, query: str) -> None:
    code, out = run("find", query, "--home", str(sample_home_template))
    assert code == 2
    assert "the query is empty" in out


def test_find_on_a_missing_home_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    code, out = run("find", "bridge", "--home", str(home))
    assert code == 2 and "no newsrec home here" in out
    assert not home.exists()


def test_pin_into_more_like_this_from_the_cli(sample_home: Path) -> None:
    code, out = run(
        "pin", "sample-002", "sample-026", "--list", "more_like_this", "--by", "ed",
        "--home", str(sample_home),
    )  # fmt: skip
    assert code == 0, out
    assert "sample-026 at #1 of More like this for sample-002" in out
    code, out = run("overrides", "--json", "--home", str(sample_home))
    assert [(o["target"], o["list"]) for o in json.loads(out)] == [("sample-026", "more_like_this")]
    code, out = run("related", "sample-002", "--json", "--home", str(sample_home))
    lists = json.loads(out)
    assert lists["more_like_this"][0]["id"] == "sample-026"
    assert "sample-026" not in [i["id"] for i in lists["related"]]
