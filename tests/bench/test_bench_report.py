"""The benchmark report keeps what a run of the suite does not measure."""

from __future__ import annotations

from pathlib import Path

from evaluation.bench.report import REPORT_NAME, Report


def _report() -> Report:
    report = Report()
    table = report.table("Engine", "Lists per second", ["articles", "lists/s"])
    report.row(table, 1000, 250.0)
    return report


def test_sections_this_run_does_not_write_are_kept(tmp_path: Path) -> None:
    (tmp_path / REPORT_NAME).write_text(
        "# newsrec benchmarks\n\n## Machine\n\n- old\n\n## Engine\n\n| stale |\n\n"
        "## Online experiments on simulated readers\n\nmeasured by hand: 1,131 sessions\n\n"
        "## Memory\n\n- old figures\n",
        encoding="utf-8",
    )
    written, _ = _report().write(tmp_path)
    text = written.read_text(encoding="utf-8")
    assert "| stale |" not in text and "| 1000 | 250 |" in text  # rewritten
    assert "measured by hand: 1,131 sessions" in text and "- old figures" in text  # kept
    assert text.count("## Machine") == 1 and text.count("## Engine") == 1
    assert text.index("## Engine") < text.index("## Online experiments")


def test_a_first_report_is_only_what_was_measured(tmp_path: Path) -> None:
    written, _ = _report().write(tmp_path)
    assert written.read_text(encoding="utf-8") == _report().markdown()
