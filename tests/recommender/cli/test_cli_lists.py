"""``newsrec related``: weights named from the signals, the lists a page shows, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from recommender.cli import app
from recommender.ranking.scoring import SIGNALS
from tests.handmade import PLAIN, STORM_DOCS, build_home

runner = CliRunner()


def _home(tmp_path: Path) -> Path:
    return build_home(tmp_path / "home", STORM_DOCS, **PLAIN).home


def test_every_signal_weight_is_accepted_by_its_name(tmp_path: Path) -> None:
    home = _home(tmp_path)
    args = ["related", "S", "--home", str(home), "--json"]
    for signal in SIGNALS:
        args += ["--weight", f"{signal.weight}=0.5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) >= {"more_like_this", "related", "popular", "short"}


def test_an_unknown_weight_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["related", "S", "--home", str(_home(tmp_path)), "-w", "w_popp=1"])
    assert result.exit_code == 2
    assert "unknown weight 'w_popp'" in result.output
    assert "w_section" in result.output  # the names it knows


def test_only_the_lists_asked_for_are_computed(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["related", "S", "--home", str(_home(tmp_path)), "--json", "--lists", "related"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["more_like_this"] == [] and body["popular"] == []
    assert [i["id"] for i in body["related"]][:1] == ["B"]


def test_an_unknown_list_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["related", "S", "--home", str(_home(tmp_path)), "--lists", "x"])
    assert result.exit_code == 2
    assert "unknown list 'x'" in result.output
