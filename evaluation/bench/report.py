"""Figures as they are measured: printed at once, then written as BENCHMARKS.md and JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["REPORT_NAME", "RESULTS_NAME", "Report", "Table", "kept_sections"]

REPORT_NAME = "BENCHMARKS.md"
RESULTS_NAME = "bench-results.json"


@dataclass
class Table:
    """One table of figures: a title, its columns, rows and notes on how they were taken."""

    section: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 0.01:
            return f"{value:.3f}"
        return f"{value:.2g}"
    return "-" if value is None else str(value)


class Report:
    """Collects tables, prints each row the moment it is measured, and writes the report."""

    def __init__(self, stream: TextIO | None = None) -> None:
        """Print to ``stream`` (stdout by default)."""
        self.tables: list[Table] = []
        self.meta: dict[str, Any] = {}
        self._stream = stream or sys.stdout

    def say(self, text: str) -> None:
        """Print a line of progress or a note."""
        print(text, file=self._stream, flush=True)

    def table(self, section: str, title: str, columns: list[str]) -> Table:
        """Start a table; its header is printed now."""
        table = Table(section, title, columns)
        self.tables.append(table)
        self.say(f"\n== {section}: {title}")
        self.say("   " + " | ".join(columns))
        return table

    def row(self, table: Table, *values: Any) -> None:
        """Add a row of figures to ``table`` and print it."""
        if len(values) != len(table.columns):
            raise ValueError(
                f"table {table.title!r} has {len(table.columns)} columns, got {values}"
            )
        table.rows.append(list(values))
        self.say("   " + " | ".join(_cell(v) for v in values))

    def note(self, table: Table, text: str) -> None:
        """Attach (and print) a note to ``table``."""
        table.notes.append(text)
        self.say(f"   note: {text}")

    def figure_count(self) -> int:
        """How many rows of figures were measured."""
        return sum(len(t.rows) for t in self.tables)

    def markdown(self) -> str:
        """The report as Markdown."""
        meta = self.meta
        lines = ["# newsrec benchmarks", ""]
        if meta.get("intro"):
            lines += [meta["intro"], ""]
        lines += ["## Machine", ""]
        for key, value in meta.get("machine", {}).items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            lines.append(f"- **{key}**: {value}")
        lines += ["", "## Commands", ""]
        for command in meta.get("commands", []):
            lines.append(f"    {command}")
        section = None
        for table in self.tables:
            if table.section != section:
                section = table.section
                lines += ["", f"## {section}"]
            lines += ["", f"### {table.title}", ""]
            lines.append("| " + " | ".join(table.columns) + " |")
            lines.append("|" + "|".join("---" for _ in table.columns) + "|")
            for row in table.rows:
                lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
            if table.notes:
                lines.append("")
                lines += [f"- {note}" for note in table.notes]
        return "\n".join(lines) + "\n"

    def write(self, out: Path) -> tuple[Path, Path]:
        """Write ``BENCHMARKS.md`` and ``bench-results.json`` into ``out`` (temp name, rename).

        The ``##`` sections of an earlier ``BENCHMARKS.md`` there that this run does not write
        (figures measured by hand or by other tools, such as the reader simulation, or
        sections of the suite not run this time) are kept, after the new ones.
        """
        out.mkdir(parents=True, exist_ok=True)
        results = {"meta": self.meta, "tables": [asdict(t) for t in self.tables]}
        markdown = self.markdown()
        previous = out / REPORT_NAME
        if previous.is_file():
            kept = kept_sections(previous.read_text(encoding="utf-8"), markdown)
            if kept:
                markdown = markdown.rstrip("\n") + "\n\n" + kept
        written = []
        for name, text in (
            (REPORT_NAME, markdown),
            (RESULTS_NAME, json.dumps(results, indent=2, default=str) + "\n"),
        ):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, out / name)
            written.append(out / name)
        return written[0], written[1]


def kept_sections(previous: str, new: str) -> str:
    """The ``##`` sections of ``previous`` whose headings ``new`` does not have, in their order."""
    written = {line for line in new.splitlines() if line.startswith("## ")}
    kept: list[str] = []
    keeping = False
    for line in previous.splitlines():
        if line.startswith("## "):
            keeping = line not in written
        if keeping:
            kept.append(line)
    return "\n".join(kept).strip("\n") + "\n" if kept else ""
