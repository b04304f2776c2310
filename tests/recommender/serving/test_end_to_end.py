"""End to end: the bundled sample through the real CLI and a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLE, LiveServer

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow


def newsrec(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    return subprocess.run(
        [sys.executable, "-m", "recommender", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_ingest_then_related_json(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingest = newsrec("ingest", str(SAMPLE), home=home)
    assert ingest.returncode == 0, ingest.stderr
    assert "added 80, updated 0, unchanged 0, rejected 0" in ingest.stdout
    result = newsrec("related", "sample-039", "-k", "4", "--json", home=home)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    more = [item["id"] for item in body["more_like_this"]]
    related = [item["id"] for item in body["related"]]
    assert len(more) == 4 and len(related) == 4
    assert "sample-039" not in more + related
    assert not set(more) & set(related)


def test_cli_unknown_article_is_one_line_and_exit_2(sample_home: Path) -> None:
    result = newsrec("related", "no-such-id", home=sample_home)
    assert result.returncode == 2
    assert result.stderr.strip() == "newsrec: error: no published article with id 'no-such-id'"


def test_cli_like_finds_the_story_of_a_draft(sample_home: Path) -> None:
    result = newsrec("like", "Seaweed battery spin-off raises funding", "--json", home=sample_home)
    assert result.returncode == 0, result.stderr
    top = json.loads(result.stdout)["more_like_this"][0]
    assert "battery" in (top["title"] + top["snippet"]).lower()


def test_cli_ingest_of_only_bad_input_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no id"}\n', encoding="utf-8")
    result = newsrec("ingest", str(bad), home=tmp_path / "home")
    assert result.returncode == 2  # bad input, as `newsrec events` exits on it
    assert f"rejected {bad}:1: id: missing" in result.stderr


def test_cli_status_names_model_and_version(sample_home: Path) -> None:
    result = newsrec("status", "--json", home=sample_home)
    info = json.loads(result.stdout)
    assert (info["articles"], info["model"], info["index_version"]) == (
        80,
        "all-MiniLM-L6-v2",
        "v000001",
    )


def test_http_related_returns_the_three_lists(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/articles/sample-010/related", params={"k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["article"]["id"] == "sample-010"
    for name in ("more_like_this", "related", "popular"):
        items = body[name]
        # Related may be shorter than asked (only what is related), and then says why.
        assert len(items) == 3 or (name == "related" and name in body["short"])
        for item in items:
            assert set(item) >= {
                "id",
                "title",
                "snippet",
                "url",
                "section",
                "published_at",
                "score",
            }
            assert len(item["snippet"]) <= 160 and item["id"] != "sample-010"


def test_http_unknown_id_is_404_with_message(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/articles/nope/related")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_http_k_out_of_range_is_422(live_server: LiveServer) -> None:
    for k in (0, 51):
        response = httpx.get(f"{live_server.url}/articles/sample-010/related", params={"k": k})
        assert response.status_code == 422
