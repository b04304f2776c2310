"""TREC run and qrels files round-trip; bad lines are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.runs import RunFileError, read_qrels, read_run, write_qrels, write_run


@pytest.mark.parametrize("name", ["run.trec", "run.trec.gz"])
def test_a_run_reads_back_in_rank_order(tmp_path: Path, name: str) -> None:
    run = {"q1": [("b", 0.9), ("a", 0.5)], "q2": [("c", 1.0)]}
    write_run(run, tmp_path / name, tag="m")
    assert read_run(tmp_path / name) == run


def test_qrels_read_back(tmp_path: Path) -> None:
    qrels = {"q1": {"a": 1, "b": 0}}
    write_qrels(qrels, tmp_path / "qrels.trec")
    assert read_qrels(tmp_path / "qrels.trec") == qrels


def test_a_malformed_run_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.trec"
    path.write_text("q1 Q0 a 1 0.5 m\nq1 Q0 b two 0.4 m\n")
    with pytest.raises(RunFileError, match=r"bad.trec:2"):
        read_run(path)
