"""The benchmark suite's quick mode runs end to end and writes its report (no timing checks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA


@pytest.mark.slow
def test_quick_benchmark_prints_figures_and_writes_the_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation.bench",
            "--quick",
            "--out",
            str(tmp_path / "out"),
            "--work",
            str(tmp_path / "work"),
            "--data",
            str(SHARED_DATA),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for heading in ("== Embedding", "== Vector index", "== Engine", "== Memory"):
        assert heading in done.stdout
    report = (tmp_path / "out" / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## Machine" in report and "| newsrec flat (faiss exact) |" in report
    results = json.loads((tmp_path / "out" / "bench-results.json").read_text(encoding="utf-8"))
    assert all(table["rows"] for table in results["tables"])
