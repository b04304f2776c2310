"""``newsrec related`` and ``newsrec like`` with ``--server``: the lists come from a running
service, print as they would have locally, and fail with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.cli.app import LAZY_LIBRARIES
from tests.conftest import LiveServer, free_port
from tests.recommender.cli.test_cli_start import imported
from tests.service.servers import lists_only

runner = CliRunner()


@pytest.mark.parametrize(
    "options",
    [[], ["-k", "3", "--explain"], ["--lists", "related,popular", "-k", "0"], ["--json"]],
)
def test_related_from_the_server_prints_what_the_home_would(
    read_server: LiveServer, sample_home_template: Path, options: list[str]
) -> None:
    local = runner.invoke(
        app, ["related", "sample-039", "--home", str(sample_home_template), *options]
    )
    remote = runner.invoke(app, ["related", "sample-039", "--server", read_server.url, *options])
    assert local.exit_code == remote.exit_code == 0, remote.output
    if "--json" in options:
        assert lists_only(json.loads(remote.output)) == json.loads(local.output)
    else:
        assert remote.output == local.output


def test_the_server_may_be_named_by_newsrec_server(read_server: LiveServer) -> None:
    result = runner.invoke(
        app, ["related", "sample-039", "--json"], env={"NEWSREC_SERVER": read_server.url}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["article"]["id"] == "sample-039"


def test_an_unknown_article_on_the_server_fails_with_exit_2(read_server: LiveServer) -> None:
    result = runner.invoke(app, ["related", "no-such-article", "--server", read_server.url])
    assert result.exit_code == 2
    assert "404: no published article with id 'no-such-article'" in result.output


def test_an_unreachable_server_fails_with_exit_1_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["related", "sample-039", "--server", url])
    assert result.exit_code == 1
    assert f"cannot reach the newsrec service at {url}" in result.output


@pytest.mark.slow  # the server loads the model for its first draft
def test_like_with_a_server_loads_no_model(read_server: LiveServer) -> None:
    args = ("-m", "recommender", "like", "Lanthorn Bridge closed", "--server", read_server.url)
    assert imported(*args) & LAZY_LIBRARIES == set()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "More like this" in done.stdout
