"""``newsrec ingest`` and ``newsrec events`` fail alike: the same exit code for the same kind of
failure, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import invoke_newsrec


@pytest.mark.parametrize("command", ["ingest", "events"])
def test_a_file_with_nothing_readable_exits_2(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    result = invoke_newsrec(command, empty, "--home", tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr.count("newsrec: error:") == 1


@pytest.mark.parametrize("command", ["ingest", "events"])
def test_a_catalogue_that_is_not_one_exits_1_in_one_line(tmp_path: Path, command: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "catalogue.sqlite").write_bytes(b"not a database at all" * 100)
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"id": "a", "title": "A title", "article_id": "a", "kind": "view", '
        '"at": "2026-10-01T08:00:00Z"}\n',
        encoding="utf-8",
    )
    result = invoke_newsrec(command, rows, "--home", home)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("newsrec: error:")]
    assert len(lines) == 1 and "catalogue.sqlite" in lines[0]
