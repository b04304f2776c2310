"""``newsrec experiments check`` and ``newsrec experiments report`` over a real feedback store."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index.feedback import Feedback, FeedbackStore
from recommender.cli import app
from recommender.experiments.feedback import click_from, impressions_from
from recommender.experiments.tokens import Trace
from tests.conftest import make_settings

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHOWN = ("a1", "a2", "a3", "a4", "a5")

GOOD = """\
name = "weights-1"
kind = "ab"
[variants.A]
share = 0.4
[variants.B]
share = 0.4
w_pop = 0.5
"""


@pytest.fixture(autouse=True)
def _no_experiments_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSREC_EXPERIMENTS_FILE", raising=False)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def served(nonce: str, variant: str, reader: str, clicked: bool) -> list[Feedback]:
    """One answer's Related list, its impression and, if ``clicked``, a click at position 1,
    made from its trace as ``POST /events`` makes them."""
    trace = Trace(
        source="s1",
        lists={"related": SHOWN},
        teams={},
        variant=variant,
        experiment="weights-1",
        index_version="v1",
        reader=reader,
        issued_at=AT,
        nonce=nonce,
    )
    rows = impressions_from(trace, list_name=None, visible=None, at=AT)
    if clicked:
        rows.append(click_from(trace, list_name=None, position=1, article_id="a1", at=AT))
    return rows


def home_with_feedback(tmp_path: Path, ctrs: dict[str, float], lists_each: int) -> Path:
    home = tmp_path / "home"
    rng = random.Random(0)
    rows = [
        row
        for variant, ctr in ctrs.items()
        for i in range(lists_each)
        for row in served(f"{variant}{i:015d}", variant, f"r{variant}{i}", rng.random() < ctr)
    ]
    with FeedbackStore(make_settings(home).catalogue_path) as store:
        store.add(rows)
    return home


def test_check_prints_the_variants_and_their_shares(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(GOOD)
    code, out = run("experiments", "check", str(path))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("weights-1: ab")
    assert "A" in lines[1] and "40.00%" in lines[1] and "the configured weights" in lines[1]
    assert "B" in lines[2] and "w_pop=0.5" in lines[2]
    assert "default" in lines[3] and "20.00%" in lines[3]


def test_check_says_when_the_experiment_is_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(GOOD.replace('kind = "ab"', 'kind = "ab"\nenabled = false'))
    code, out = run("experiments", "check", str(path))
    assert code == 0 and "enabled = false" in out


@pytest.mark.parametrize(
    "text",
    [GOOD.replace("share = 0.4\nw_pop", "share = 0.7\nw_pop"), "name = [", ""],
    ids=["shares above 1", "bad TOML", "no name"],
)
def test_check_refuses_a_bad_file_in_one_line_with_exit_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(text)
    code, out = run("experiments", "check", str(path))
    assert code == 2
    assert len(out.strip().splitlines()) == 1
    assert out.startswith("newsrec: error: ") and str(path) in out


def test_check_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, out = run("experiments", "check", str(tmp_path / "nowhere.toml"))
    assert code == 2 and len(out.strip().splitlines()) == 1


def test_report_writes_results_report_and_plot_naming_the_better_variant(tmp_path: Path) -> None:
    home = home_with_feedback(tmp_path, {"A": 0.10, "B": 0.25}, 400)
    out = tmp_path / "report"
    code, printed = run("experiments", "report", "--out", str(out), "--home", str(home))
    assert code == 0, printed
    assert "weights-1 (ab): B better at 95% confidence" in printed
    results = json.loads((out / "results.json").read_text())
    experiment = results["experiments"]["weights-1"]
    assert experiment["verdict"]["better"] == "B"
    assert experiment["verdict"]["method"] == "ab"
    assert experiment["ab"]["variants"]["A"]["impressions"] == 400
    assert (out / "results.json.sha256").is_file()
    assert (out / experiment["plot"]).read_bytes()[:4] == b"\x89PNG"
    assert "**Verdict: B is better than A**" in (out / "report.md").read_text()


def test_report_takes_the_control_from_the_experiments_file(tmp_path: Path) -> None:
    home = home_with_feedback(tmp_path, {"A": 0.10, "B": 0.25}, 100)
    path = tmp_path / "experiments.toml"
    path.write_text(GOOD.replace("[variants.A]\nshare = 0.4\n", "") + "[variants.A]\nshare = 0.4\n")
    out = tmp_path / "report"
    code, printed = run(
        "experiments", "report", "--out", str(out), "--home", str(home),
        "--experiments-file", str(path),
    )  # fmt: skip
    assert code == 0, printed
    experiment = json.loads((out / "results.json").read_text())["experiments"]["weights-1"]
    assert experiment["control"] == "B" and experiment["design_from"] == "experiments file"


def test_report_with_an_unknown_control_exits_2(tmp_path: Path) -> None:
    home = home_with_feedback(tmp_path, {"A": 0.1, "B": 0.1}, 5)
    code, out = run(
        "experiments", "report", "--out", str(tmp_path / "r"), "--home", str(home),
        "--control", "Z",
    )  # fmt: skip
    assert code == 2 and "'Z' is not one of its variants" in out


def test_report_on_a_missing_home_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    code, out = run("experiments", "report", "--out", str(tmp_path / "r"), "--home", str(home))
    assert code == 2 and "no newsrec home here" in out
    assert not home.exists()
