"""Reading article files: JSONL (optionally gzipped), CSV, Parquet and MIND ``news.tsv``.

Readers yield rows and row-level problems side by side, so that one bad line is reported with
its file and line number and the good rows around it still land.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "MIND_NEWS_COLUMNS",
    "Row",
    "RowProblem",
    "UnreadableFile",
    "detect_format",
    "read_rows",
]

MIND_NEWS_COLUMNS = (
    "id",
    "category",
    "subcategory",
    "title",
    "abstract",
    "url",
    "title_entities",
    "abstract_entities",
)
_FORMATS = ("jsonl", "csv", "parquet", "mind")
_INVALID_BYTE = re.compile("[\udc80-\udcff]")


class UnreadableFile(ValueError):
    """A whole file that cannot be read (missing, unknown format, not the format it claims)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One raw record and where it came from."""

    source: str
    line: int
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A record that could not be read, with its place and the reason."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


def detect_format(path: Path) -> str:
    """Name the format of ``path`` from its name: jsonl, csv, parquet or mind."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".tsv"):
        return "mind"
    raise UnreadableFile(
        f"{path}: unknown file type; expected .jsonl, .jsonl.gz, .csv, .parquet or MIND news.tsv"
    )


def _open_text(path: Path) -> TextIO:
    raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    # Invalid bytes become lone surrogates (U+DC80-U+DCFF), which valid UTF-8 never decodes
    # to, so the row they are in is reported without aborting the file and without mistaking a
    # genuine U+FFFD in the text for damage.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _has_invalid_bytes(text: str) -> bool:
    return _INVALID_BYTE.search(text) is not None


def _rename(fields: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    if not mapping:
        return dict(fields)
    return {mapping.get(key, key): value for key, value in fields.items()}


def _read_jsonl(path: Path, mapping: Mapping[str, str]) -> Iterator[Row | RowProblem]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if _has_invalid_bytes(line):
                yield RowProblem(str(path), number, "invalid UTF-8 bytes")
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RowProblem(str(path), number, f"not valid JSON ({exc.msg})")
                continue
            except (ValueError, RecursionError) as exc:
                # Valid JSON that Python will not load: an integer of over 4,300 digits
                # (ValueError) or nesting deeper than the interpreter's recursion limit.
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                yield RowProblem(str(path), number, f"not loadable JSON ({reason[:80]})")
                continue
            if not isinstance(value, dict):
                yield RowProblem(str(path), number, "expected a JSON object")
                continue
            yield Row(str(path), number, _rename(value, mapping))


class _CsvLines:
    """The lines of a CSV file, counted, keeping those of the record being parsed, so that a
    record that never ends (an unterminated quote) can be parsed again from its second line."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._again: deque[str] = deque()
        self.record: list[str] = []
        self.number = 0  # lines handed to the parser so far

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = self._again.popleft() if self._again else next(self._handle)
        self.number += 1
        self.record.append(line)
        return line

    def start_record(self) -> int:
        """Forget the lines of the last record; the line number the next one starts on."""
        self.record = []
        return self.number + 1

    def read_again_after_first_line(self) -> None:
        """Hand the current record's lines, but its first, to the parser again."""
        self._again.extendleft(reversed(self.record[1:]))
        self.number -= len(self.record) - 1


def _read_csv(path: Path, mapping: Mapping[str, str]) -> Iterator[Row | RowProblem]:
    # strict: a quote left open is an error at the end of the file (or past the field size
    # limit), not a cell that silently swallows every later row.
    with _open_text(path) as handle:
        lines = _CsvLines(handle)
        reader = csv.reader(lines, strict=True)
        try:
            fieldnames = next(reader, [])
        except csv.Error as exc:
            raise UnreadableFile(f"{path}: unreadable CSV header row ({exc})") from exc
        if not fieldnames:
            raise UnreadableFile(f"{path}: empty CSV file (no header row)")
        header = {mapping.get(name, name) for name in fieldnames}
        if "id" not in header or "title" not in header:
            raise UnreadableFile(
                f"{path}: CSV header lacks an 'id' and a 'title' column "
                f"(found {', '.join(fieldnames)}; rename with --map)"
            )
        while True:
            number = lines.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if len(lines.record) > 1 and _runs_on(exc):
                    yield RowProblem(
                        str(path), number, f"a quoted cell opened on this line never closes ({exc})"
                    )
                    # The lines it swallowed are rows of their own: read them again.
                    lines.read_again_after_first_line()
                    reader = csv.reader(lines, strict=True)
                else:
                    yield RowProblem(str(path), number, f"not valid CSV ({exc})")
                continue
            if not cells:
                continue
            if len(cells) > len(fieldnames):
                yield RowProblem(str(path), number, "more cells than header columns")
                continue
            if len(cells) < len(fieldnames):
                yield RowProblem(str(path), number, "fewer cells than header columns")
                continue
            if any(_has_invalid_bytes(v) for v in cells):
                yield RowProblem(str(path), number, "invalid UTF-8 bytes")
                continue
            record = dict(zip(fieldnames, cells, strict=True))
            yield Row(str(path), number, _rename(record, mapping))


def _runs_on(exc: csv.Error) -> bool:
    # The csv module's words for a quoted cell still open at the end of the file, or grown
    # past its size limit (a quote left open mid-file with much text after it).
    text = str(exc)
    return "unexpected end of data" in text or "field larger than field limit" in text


def _read_parquet(path: Path, mapping: Mapping[str, str]) -> Iterator[Row | RowProblem]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise UnreadableFile(f"{path}: not a readable Parquet file ({exc})") from exc
    number = 0
    for batch in table.to_batches():
        for record in batch.to_pylist():
            number += 1
            yield Row(str(path), number, _rename(record, mapping))


def _read_mind_news(path: Path, mapping: Mapping[str, str]) -> Iterator[Row | RowProblem]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            if _has_invalid_bytes(line):
                yield RowProblem(str(path), number, "invalid UTF-8 bytes")
                continue
            cells = line.split("\t")
            if len(cells) != len(MIND_NEWS_COLUMNS):
                yield RowProblem(
                    str(path),
                    number,
                    f"expected {len(MIND_NEWS_COLUMNS)} tab-separated MIND columns, "
                    f"got {len(cells)}",
                )
                continue
            record = dict(zip(MIND_NEWS_COLUMNS, cells, strict=True))
            yield Row(
                str(path),
                number,
                _rename(
                    {
                        "id": record["id"],
                        "title": record["title"],
                        "abstract": record["abstract"],
                        "url": record["url"] or None,
                        "section": record["category"],
                        "tags": [record["subcategory"]] if record["subcategory"] else [],
                    },
                    mapping,
                ),
            )


def read_rows(
    path: Path, *, mapping: Mapping[str, str] | None = None, file_format: str | None = None
) -> Iterator[Row | RowProblem]:
    """Yield every record of ``path`` as a :class:`Row`, or a :class:`RowProblem` for bad ones.

    Args:
        path: the file to read.
        mapping: renames columns, source name to newsrec name (``{"headline": "title"}``).
        file_format: one of jsonl, csv, parquet, mind; guessed from the name when omitted.

    Raises:
        UnreadableFile: when the file as a whole cannot be read.
    """
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    kind = file_format or detect_format(path)
    if kind not in _FORMATS:
        raise UnreadableFile(f"{path}: unknown format {kind!r}; expected one of {_FORMATS}")
    reader = {
        "jsonl": _read_jsonl,
        "csv": _read_csv,
        "parquet": _read_parquet,
        "mind": _read_mind_news,
    }[kind]
    last_line = 0
    try:
        for item in reader(path, mapping or {}):
            last_line = item.line
            yield item
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        if last_line == 0:
            raise UnreadableFile(f"{path}: cannot read ({exc})") from exc
        # The rows before the damage (e.g. a truncated .gz) have been read and will land.
        yield RowProblem(str(path), last_line + 1, f"cannot read further ({exc})")
