"""Tracked lists: every served answer's recommendation id, and the variants of an experiment.

Real ``newsrec serve`` processes over copies of the sample home, each with its own experiments
file (``NEWSREC_EXPERIMENTS_FILE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from recommender.cli import app as cli
from recommender.experiments.signer import configured_ids
from recommender.experiments.tokens import Trace
from tests.conftest import LiveServer, make_settings
from tests.service.servers import copy_home, lists_only, start

SOURCES = ("sample-002", "sample-015", "sample-031", "sample-047", "sample-066")

AB = """
name = "recency-off"
kind = "ab"
[variants.A]
share = 0.5
[variants.B]
share = 0.5
w_rec = 0.0
"""
INTERLEAVING = """
name = "recency-off-interleaved"
kind = "interleaving"
[variants.A]
[variants.B]
w_rec = 0.0
"""


def _server(template: Path, where: Path, experiments: str | None) -> LiveServer:
    home = copy_home(template, where)
    env: dict[str, str] = {}
    if experiments is not None:
        path = where / "experiments.toml"
        path.write_text(experiments, encoding="utf-8")
        env["NEWSREC_EXPERIMENTS_FILE"] = str(path)
    return start(home, env)


@pytest.fixture(scope="module")
def ab_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server running an A/B experiment: B turns recency off."""
    server = _server(sample_home_template, tmp_path_factory.mktemp("ab"), AB)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ab(ab_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the A/B server."""
    with httpx.Client(base_url=ab_server.url, timeout=30) as http:
        yield http


def _trace(server: LiveServer, token: str) -> Trace:
    return configured_ids(make_settings(server.home)).check(token)


def _ids(answer: dict[str, object], name: str) -> list[str]:
    items = answer[name]
    assert isinstance(items, list)
    return [item["id"] for item in items]


# --- every answer is traceable ------------------------------------------------------------


def test_an_answer_names_its_lists_in_its_recommendation_id(
    client: httpx.Client, read_server: LiveServer
) -> None:
    answer = client.get("/articles/sample-002/related", params={"k": 4}).json()
    assert answer["variant"] == "default" and answer["experiment"] is None
    trace = _trace(read_server, answer["recommendation_id"])
    assert trace.source == "sample-002"
    assert trace.variant == "default" and trace.experiment is None
    assert trace.index_version == answer["index_version"]
    for name in ("more_like_this", "related", "popular"):
        assert list(trace.lists.get(name, ())) == _ids(answer, name)
        assert [item["position"] for item in answer[name]] == list(range(1, len(answer[name]) + 1))
    assert trace.reader is None  # anonymous


def test_a_reader_is_kept_only_as_a_hash(client: httpx.Client, read_server: LiveServer) -> None:
    answer = client.get("/articles/sample-002/related", params={"reader": "reader-42"}).json()
    trace = _trace(read_server, answer["recommendation_id"])
    assert trace.reader is not None and "reader-42" not in trace.reader
    by_header = client.get(
        "/articles/sample-002/related", headers={"X-Newsrec-Reader": "reader-42"}
    ).json()
    assert _trace(read_server, by_header["recommendation_id"]).reader == trace.reader


def test_the_boxes_and_a_draft_carry_ids_too(client: httpx.Client, read_server: LiveServer) -> None:
    html = client.get("/articles/sample-002/related.html", params={"k": 3}).text
    assert 'data-recommendation-id=".' in html
    assert 'data-position="1"' in html and 'data-position="3"' in html
    draft = client.post("/related", json={"text": "Lanthorn Bridge closed", "k": 2}).json()
    trace = _trace(read_server, draft["recommendation_id"])
    assert trace.source == "" and list(trace.lists["more_like_this"]) == _ids(
        draft, "more_like_this"
    )
    these = client.post("/related", json={"ids": ["sample-002", "sample-003"], "k": 2}).json()
    assert _trace(read_server, these["recommendation_id"]).source == "sample-002 sample-003"


# --- variants --------------------------------------------------------------------------------


def test_a_reader_always_sees_the_same_variant(ab: httpx.Client) -> None:
    seen = {
        reader: {
            ab.get(f"/articles/{source}/related", params={"reader": reader}).json()["variant"]
            for source in SOURCES[:3]
        }
        for reader in (f"reader-{n}" for n in range(60))
    }
    assert all(len(variants) == 1 for variants in seen.values())
    counts = {name: sum(v == {name} for v in seen.values()) for name in ("A", "B")}
    assert counts["A"] + counts["B"] == 60
    assert min(counts.values()) >= 15, counts  # shares 0.5 / 0.5


def test_a_variant_is_its_settings_overlay(ab: httpx.Client) -> None:
    for source in SOURCES:
        forced = ab.get(f"/articles/{source}/related", params={"variant": "B"}).json()
        asked = ab.get(f"/articles/{source}/related", params={"w_rec": 0}).json()
        plain = ab.get(f"/articles/{source}/related", params={"variant": "A"}).json()
        default = ab.get(f"/articles/{source}/related").json()
        assert _ids(forced, "related") == _ids(asked, "related")
        assert _ids(plain, "related") == _ids(default, "related")


def test_a_forced_answer_never_counts_in_the_experiment(
    ab: httpx.Client, ab_server: LiveServer
) -> None:
    forced = ab.get("/articles/sample-002/related", params={"variant": "B"}).json()
    assert forced["variant"] == "B" and forced["experiment"] is None
    assert _trace(ab_server, forced["recommendation_id"]).experiment is None
    own = ab.get("/articles/sample-002/related", params={"reader": "reader-1"}).json()
    assert own["experiment"] == "recency-off"
    assert _trace(ab_server, own["recommendation_id"]).experiment == "recency-off"


def test_an_unknown_variant_is_refused_with_the_running_ones(ab: httpx.Client) -> None:
    response = ab.get("/articles/sample-002/related", params={"variant": "C"})
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "'C'" in message and "A, B" in message


def test_an_experiment_turned_off_leaves_the_lists_as_the_defaults_make_them(
    sample_home_template: Path, tmp_path: Path, client: httpx.Client
) -> None:
    off = AB.replace('kind = "ab"', 'kind = "ab"\nenabled = false')
    server = _server(sample_home_template, tmp_path, off)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n, source in enumerate(SOURCES):
                params = {"reader": f"reader-{n}", "k": 5}
                answer = http.get(f"/articles/{source}/related", params=params).json()
                assert answer["variant"] == "default" and answer["experiment"] is None
                plain = client.get(f"/articles/{source}/related", params={"k": 5}).json()
                assert lists_only(answer) == lists_only(plain)
            assert (
                http.get("/articles/sample-002/related", params={"variant": "B"}).status_code == 422
            )
    finally:
        server.stop()


def test_an_interleaved_list_is_drafted_from_both_variants(
    sample_home_template: Path, tmp_path: Path
) -> None:
    server = _server(sample_home_template, tmp_path, INTERLEAVING)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n, source in enumerate(SOURCES):
                path = f"/articles/{source}/related"
                params = {"lists": "related", "k": 5}
                first = _ids(http.get(path, params={**params, "variant": "A"}).json(), "related")
                second = _ids(http.get(path, params={**params, "variant": "B"}).json(), "related")
                answer = http.get(path, params={**params, "reader": f"reader-{n}"}).json()
                assert answer["variant"] == "interleaved"
                trace = _trace(server, answer["recommendation_id"])
                merged, teams = _ids(answer, "related"), trace.teams["related"]
                assert len(merged) == len(teams) == max(len(first), len(second))
                assert len(set(merged)) == len(merged)
                for team, ranking in (("A", first), ("B", second)):
                    picked = [i for i, t in zip(merged, teams, strict=True) if t == team]
                    assert set(picked) <= set(ranking)
                    assert picked == sorted(picked, key=ranking.index)  # in the team's order
    finally:
        server.stop()


def test_a_malformed_experiments_file_stops_serve_with_one_line(
    sample_home_template: Path, tmp_path: Path
) -> None:
    home = copy_home(sample_home_template, tmp_path)
    path = tmp_path / "experiments.toml"
    path.write_text(AB.replace("w_rec", "w_recency"), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["serve", "--home", str(home)],
        env={"NEWSREC_EXPERIMENTS_FILE": str(path)},
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "w_recency" in lines[0]


def test_a_reader_id_never_reaches_the_logs(ab: httpx.Client, ab_server: LiveServer) -> None:
    reader = "reader-id-that-must-stay-private-77"
    ab.get("/articles/sample-002/related", params={"reader": reader})
    ab.get("/articles/sample-002/related.html", headers={"X-Newsrec-Reader": reader})
    ab.post("/related", json={"text": "Lanthorn Bridge", "reader": reader})
    ab.get("/articles/sample-002/related", params={"reader": reader, "variant": "nope"})
    assert ab.get("/livez").status_code == 200  # every answer above is logged by now
    log = ab_server.log.read_text(encoding="utf-8", errors="replace")
    assert "/related" in log  # the requests were logged
    assert reader not in log
