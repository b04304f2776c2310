"""What an evaluation scores is what is served, and what it writes recomputes with ranx alone.

One co-read evaluation runs on a slice of the real MIND sample; its written lists are then asked
of the HTTP service over the evaluation's own home, and its report's recompute snippet is run.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from evaluation.config import EvaluationConfig
from evaluation.engine_lists import ENGINE_LISTS, ListName, list_request
from evaluation.runner import run_evaluation
from evaluation.runs import read_run
from recommender.settings import Settings
from service.app import create_app

pytestmark = pytest.mark.slow

_K = 10


@pytest.fixture(scope="module")
def mind_slice(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 300 news of the MIND sample and all its behaviors rows."""
    folder = tmp_path_factory.mktemp("mind-slice")
    source = shared_data / "mind_small_sample"
    news = (source / "news.tsv").read_text(encoding="utf-8").splitlines()[:300]
    (folder / "news.tsv").write_text("\n".join(news) + "\n", encoding="utf-8")
    (folder / "behaviors.tsv").write_bytes((source / "behaviors.tsv").read_bytes())
    return folder


@pytest.fixture(scope="module")
def evaluated(mind_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A co-read evaluation of the slice; its output folder."""
    out = tmp_path_factory.mktemp("coread-eval")
    run_evaluation(
        EvaluationConfig(
            datasets=(mind_slice,),
            protocol="coread",
            out=out,
            ks=(5, _K),
            limit_sources=25,
            cache_dir=tmp_path_factory.mktemp("vectors"),
            settings_overrides={"embed_backend": "torch"},
        )
    )
    return out


def _results(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


def _query(which: ListName) -> dict[str, str]:
    request = list_request(which, _K)
    return {
        "k_more": str(request.k_more),
        "k_related": str(request.k_related),
        "k_popular": str(request.k_popular),
    }


def _served(body: dict[str, Any], which: ListName) -> list[str]:
    if which != "related+popular":
        return [item["id"] for item in body[which]]
    related, popular = body["related"], body["popular"]
    taken = []  # in turn, as a page showing both boxes side by side
    for i in range(max(len(related), len(popular))):
        taken += [items[i]["id"] for items in (related, popular) if i < len(items)]
    return taken


@pytest.mark.parametrize("which", ENGINE_LISTS)
def test_the_lists_an_evaluation_scores_are_the_http_answers(
    evaluated: Path, which: ListName
) -> None:
    written = read_run(evaluated / "runs" / f"{which}.trec")
    assert written, f"the evaluation wrote no {which} list"
    values = dict(_results(evaluated)["settings"])
    values.pop("home")
    settings = Settings(home=evaluated / "home", **values)
    with TestClient(create_app(settings)) as http:
        for source, items in written.items():
            answer = http.get(f"/articles/{source}/related", params=_query(which))
            assert answer.status_code == 200, answer.text
            assert _served(answer.json(), which) == [doc for doc, _ in items], source


def test_ranx_recomputes_every_accuracy_figure_from_the_written_files(evaluated: Path) -> None:
    results = _results(evaluated)
    namespace: dict[str, Any] = {}
    here = Path.cwd()
    os.chdir(evaluated)  # the snippet names the files relative to the output folder
    try:
        exec(results["recompute"], namespace)
    finally:
        os.chdir(here)
    recomputed = namespace["figures"]
    assert set(recomputed) == set(results["methods"])
    for method, figures in recomputed.items():
        for metric, value in figures.items():
            ours = results["methods"][method]["figures"][metric]
            assert math.isclose(value, ours, abs_tol=1e-9), (method, metric, value, ours)


def test_results_name_the_resolved_backend_and_library_versions(evaluated: Path) -> None:
    results = _results(evaluated)
    assert results["embedding"]["backend"] in ("torch-fp32", "torch-bf16")
    assert results["versions"]["ranx"] and results["versions"]["numpy"]


def test_run_files_hold_strictly_decreasing_scores(evaluated: Path) -> None:
    for path in (evaluated / "runs").glob("*.trec"):
        for source, items in read_run(path).items():
            scores = [score for _, score in items]
            assert all(a > b for a, b in itertools.pairwise(scores)), (path, source)
