"""Both sides of the trade-off in one table: relevance, reading behaviour and spread, per method.

Each column is one figure of one ``newsrec evaluate`` run (its ``results.json``), so each keeps
its own protocol, split and reading log; the table only puts them side by side::

    python -m evaluation.tradeoff out   # reads out/<run>/results.json, writes out/tradeoff.md

``make evaluate-tradeoff`` makes the runs (see :data:`RUNS`) and then the table.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "RUNS", "Column", "tradeoff_table", "write_tradeoff"]


@dataclass(frozen=True, slots=True)
class Column:
    """One figure of one run: ``run`` is the folder under the output, ``figure`` its name."""

    side: str
    title: str
    run: str
    figure: str


#: The runs the table reads, by folder, and what makes each (``make evaluate-tradeoff``).
RUNS = {
    "reuters-topics": "Reuters TEST, topics, 200,000 Zipf reads loaded",
    "reuters-names": "Reuters TEST, shares a people or orgs label, 200,000 Zipf reads loaded",
    "mind-category": "MIND sample, category, its behaviors.tsv loaded",
    "mind-subcategory": "MIND sample, subcategory, its behaviors.tsv loaded",
    "coread": "MIND sample, other readers of the source (half-A reads loaded)",
    "impressions": "MIND sample impressions, each with the reads before it",
}
#: The table's columns, in order.
COLUMNS = (
    Column("relevance", "Reuters topics P@5", "reuters-topics", "precision@5"),
    Column("relevance", "Reuters topics nDCG@10", "reuters-topics", "ndcg@10"),
    Column("relevance", "Reuters people/orgs nDCG@10", "reuters-names", "ndcg@10"),
    # The same lists held to one item per story, as the engine's are (evaluation/figures.py).
    Column(
        "relevance",
        "Reuters people/orgs nDCG@10, one per story",
        "reuters-names",
        "one_story_ndcg@10",
    ),
    Column("relevance", "MIND category P@5", "mind-category", "precision@5"),
    Column("relevance", "MIND category nDCG@10", "mind-category", "ndcg@10"),
    Column("relevance", "MIND subcategory P@5", "mind-subcategory", "precision@5"),
    Column("relevance", "MIND subcategory nDCG@10", "mind-subcategory", "ndcg@10"),
    Column("behaviour", "MIND co-read nDCG@10", "coread", "ndcg@10"),
    Column("behaviour", "impressions AUC", "impressions", "auc"),
    Column("spread", "Reuters coverage@10", "reuters-topics", "coverage@10"),
    Column("spread", "Reuters top-10 share", "reuters-topics", "top_read_share@10"),
    Column("spread", "MIND coverage@10", "coread", "coverage@10"),
    Column("spread", "MIND top-10 share", "coread", "top_read_share@10"),
)
# Impressions rank given candidates: its "related" is the engine's Related score of them, and
# More like this ranks by similarity alone, which the embedding baseline is.
_SAME_METHOD = {("impressions", "more_like_this"): "embedding"}


def _figure(results: dict[str, Any] | None, run: str, method: str, figure: str) -> Any:
    if results is None:
        return None
    methods = results["methods"]
    entry = methods.get(method) or methods.get(_SAME_METHOD.get((run, method), ""))
    return None if entry is None else entry["figures"].get(figure)


def tradeoff_table(out: Path, columns: Sequence[Column] = COLUMNS) -> str:
    """The markdown table of ``columns`` from the runs under ``out`` (a missing run shows -)."""
    loaded: dict[str, dict[str, Any] | None] = {}
    for column in columns:
        path = out / column.run / "results.json"
        if column.run not in loaded:
            loaded[column.run] = json.loads(path.read_text()) if path.is_file() else None
    methods: list[str] = []
    for results in loaded.values():
        for name in (results or {}).get("methods", {}):
            if name not in methods:
                methods.append(name)
    lines = [
        "| method | " + " | ".join(f"{c.side}: {c.title}" for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for method in methods:
        cells = []
        for column in columns:
            value = _figure(loaded[column.run], column.run, method, column.figure)
            cells.append("-" if value is None else f"{value:.3f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    runs = [f"- `{name}`: {about}" for name, about in RUNS.items() if loaded.get(name)]
    return "\n".join([*lines, "", "Runs:", *runs]) + "\n"


def write_tradeoff(out: Path) -> Path:
    """Write ``out/tradeoff.md`` (temporary name, then rename); returns its path."""
    path = out / "tradeoff.md"
    text = "# newsrec: relevance, behaviour and spread\n\n" + tradeoff_table(out)
    handle, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".md")
    with os.fdopen(handle, "w", encoding="utf-8") as target:
        target.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out")
    print(write_tradeoff(folder))
