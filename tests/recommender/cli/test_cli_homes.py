"""Homes and settings on the command line: a read command on a missing home says so, exits 2
and creates nothing; a settings typo stops a command in one line; ``newsrec --version``."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app

runner = CliRunner()

READ_COMMANDS = [
    ["related", "S"],
    ["like", "Storm hits the coast"],
    ["status"],
    ["status", "--check"],
    ["overrides"],
    ["overrides", "remove", "1"],
    ["unpin", "B", "S"],
    ["pin", "S", "B"],
    ["precompute", "--out", "lists.jsonl"],
    ["reindex"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_a_read_command_on_a_missing_home_exits_2_and_creates_nothing(
    command: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "no-such-home"
    result = runner.invoke(app, [*command, "--home", str(home)])
    assert result.exit_code == 2, result.output
    assert f"{home}: no newsrec home here (no catalogue.sqlite)" in result.output
    assert not home.exists()


def test_a_settings_typo_in_the_environment_stops_a_command_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--home", str(tmp_path)], env={"NEWSREC_W_POPP": "0.5"})
    assert result.exit_code == 2
    assert result.output.strip() == (
        "newsrec: error: unknown environment variable NEWSREC_W_POPP; did you mean NEWSREC_W_POP?"
    )


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"newsrec {version('newsrec')}"
