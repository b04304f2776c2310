"""The trade-off table puts each run's figure in its column, per method."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.tradeoff import Column, tradeoff_table


def _results(folder: Path, methods: dict[str, dict[str, float]]) -> None:
    folder.mkdir(parents=True)
    payload = {"methods": {name: {"figures": figures} for name, figures in methods.items()}}
    (folder / "results.json").write_text(json.dumps(payload))


def test_each_column_reads_its_own_run_and_a_missing_figure_shows_a_dash(tmp_path: Path) -> None:
    _results(tmp_path / "a", {"related": {"ndcg@10": 0.5}, "popular": {"ndcg@10": 0.25}})
    _results(tmp_path / "b", {"related": {"auc": 0.75}})
    columns = (Column("relevance", "A", "a", "ndcg@10"), Column("behaviour", "B", "b", "auc"))
    table = tradeoff_table(tmp_path, columns).splitlines()
    assert table[2] == "| related | 0.500 | 0.750 |"
    assert table[3] == "| popular | 0.250 | - |"


def test_impressions_stand_in_the_embedding_baseline_for_more_like_this(tmp_path: Path) -> None:
    _results(tmp_path / "impressions", {"embedding": {"auc": 0.6}})
    _results(tmp_path / "a", {"more_like_this": {"ndcg@10": 0.9}})
    columns = (
        Column("relevance", "A", "a", "ndcg@10"),
        Column("behaviour", "AUC", "impressions", "auc"),
    )
    assert "| more_like_this | 0.900 | 0.600 |" in tradeoff_table(tmp_path, columns)
