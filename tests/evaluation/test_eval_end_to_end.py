"""``newsrec evaluate`` end to end on a slice of the real Reuters corpus, then recomputed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from ranx import Qrels, Run, evaluate
from typer.testing import CliRunner

from evaluation.runs import read_qrels, read_run
from recommender.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reuters_slice(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 120 topic-labelled Reuters stories (all fields, labels included)."""
    path = tmp_path_factory.mktemp("slice") / "reuters-slice.jsonl"
    kept = 0
    with gzip.open(shared_data / "reuters21578.jsonl.gz", "rt") as source, path.open("w") as out:
        for line in source:
            if json.loads(line)["topics"]:
                out.write(line)
                kept += 1
                if kept == 120:
                    break
    return path


def _evaluate(reuters_slice: Path, out: Path, cache: Path) -> dict[str, object]:
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(reuters_slice),
            "--protocol",
            "labels",
            "--split",
            "all",
            "--k",
            "5,10",
            "--seed",
            "3",
            "--out",
            str(out),
            "--cache",
            str(cache),
        ],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads((out / "results.json").read_text())
    return data


@pytest.fixture(scope="module")
def runs(reuters_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs of the same command and seed, sharing an embedding cache."""
    base = tmp_path_factory.mktemp("eval")
    for name in ("first", "second"):
        _evaluate(reuters_slice, base / name, base / "cache")
    return base / "first", base / "second"


def test_the_run_writes_results_report_plots_and_lists(runs: tuple[Path, Path]) -> None:
    out = runs[0]
    for name in (
        "results.json",
        "report.md",
        "plots/metric_vs_k.png",
        "qrels.trec",
        "runs/more_like_this.trec",
        "runs/related.trec",
        "runs/bm25.trec",
    ):
        assert (out / name).is_file(), name


def test_figures_recompute_from_the_written_lists_with_ranx(runs: tuple[Path, Path]) -> None:
    out = runs[0]
    results = json.loads((out / "results.json").read_text())
    qrels = Qrels.from_dict(read_qrels(out / "qrels.trec"))
    for method, entry in results["methods"].items():
        listed = read_run(out / entry["run_file"])
        run = Run.from_dict({q: dict(items) for q, items in listed.items() if items})
        ours = entry["figures"]
        theirs = evaluate(qrels, run, ["ndcg@10", "precision@5", "mrr"], make_comparable=True)
        for name, value in theirs.items():
            assert ours[name] == pytest.approx(float(value), abs=1e-9), (method, name)


def test_the_report_tests_both_ways_of_counting_copies(runs: tuple[Path, Path]) -> None:
    out = runs[0]
    results = json.loads((out / "results.json").read_text())
    held = results["significance_one_story"]
    assert held["metric"] == "one_story_ndcg@10"
    assert set(held["tests"]) >= {"more_like_this", "related"}
    for entry in results["methods"].values():
        assert entry["figures"]["one_story_ndcg@10"] is not None
    assert "## Significance, one item per story" in (out / "report.md").read_text()


def test_the_same_seed_gives_the_same_figures(runs: tuple[Path, Path]) -> None:
    first, second = (json.loads((out / "results.json").read_text()) for out in runs)
    assert {m: e["figures"] for m, e in first["methods"].items()} == {
        m: e["figures"] for m, e in second["methods"].items()
    }


def test_the_engine_never_sees_the_labels(runs: tuple[Path, Path]) -> None:
    ingested = (runs[0] / "home" / "articles.jsonl").read_text()
    assert '"topics"' not in ingested and '"places"' not in ingested


def test_results_name_the_dataset_seed_and_code(runs: tuple[Path, Path]) -> None:
    results = json.loads((runs[0] / "results.json").read_text())
    assert results["seed"] == 3
    assert len(results["dataset"]["fingerprint"]) == 16
    assert results["code_version"]
