"""Specification of file reading: formats, column maps, and bad rows reported with line numbers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recommender.ingestion.files import Row, RowProblem, UnreadableFile, read_rows


def _rows(path: Path, **kwargs: object) -> tuple[list[Row], list[RowProblem]]:
    items = list(read_rows(path, **kwargs))  # type: ignore[arg-type]
    return [i for i in items if isinstance(i, Row)], [i for i in items if isinstance(i, RowProblem)]


def test_jsonl_bad_line_is_reported_with_its_number_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "1", "title": "a"}\n{not json\n[1, 2]\n\n{"id": "2", "title": "b"}\n')
    rows, problems = _rows(path)
    assert [r.fields["id"] for r in rows] == ["1", "2"]
    assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [
        (2, "not valid JSON"),
        (3, "expected a JSON object"),
    ]


def test_gzipped_jsonl_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps({"id": "1", "title": "a"}) + "\n")
    rows, _ = _rows(path)
    assert rows[0].fields == {"id": "1", "title": "a"}


def test_invalid_utf8_line_is_rejected_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "1", "title": "caf\xe9"}\n{"id": "2", "title": "ok"}\n')
    rows, problems = _rows(path)
    assert [r.fields["id"] for r in rows] == ["2"]
    assert problems[0].line == 1 and "UTF-8" in problems[0].reason


def test_csv_with_column_map_and_short_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,headline,section\n1,Bridge,politics\n2,Short\n")
    rows, problems = _rows(path, mapping={"headline": "title"})
    assert rows[0].fields["title"] == "Bridge"
    assert problems[0].line == 3 and "fewer cells" in problems[0].reason


def test_csv_without_id_or_title_column_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("headline,section\nBridge,politics\n")
    with pytest.raises(UnreadableFile, match=r"a\.csv: CSV header lacks"):
        list(read_rows(path))


def test_parquet_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": ["1"], "title": ["a"], "tags": [["x", "y"]]}), path)
    rows, _ = _rows(path)
    assert rows[0].fields["tags"] == ["x", "y"]


def test_mind_news_tsv_maps_category_and_abstract(tmp_path: Path) -> None:
    path = tmp_path / "news.tsv"
    path.write_text("N1\tsports\tsoccer\tCup final\tThe lead.\thttps://x/1\t[]\t[]\nN2\tbad\n")
    rows, problems = _rows(path)
    assert rows[0].fields == {
        "id": "N1",
        "title": "Cup final",
        "abstract": "The lead.",
        "url": "https://x/1",
        "section": "sports",
        "tags": ["soccer"],
    }
    assert problems[0].line == 2


def test_unknown_extension_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "a.xml"
    path.write_text("<a/>")
    with pytest.raises(UnreadableFile, match="unknown file type"):
        list(read_rows(path))


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        list(read_rows(tmp_path / "nope.jsonl"))
