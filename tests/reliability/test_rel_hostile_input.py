"""Hostile and malformed input through the article rules and ingest: never a crash.

Every generated article is either accepted as a clean record that the catalogue stores and gives
back unchanged, or refused with InvalidArticle naming the field. Ingest files with broken
encodings, broken JSON lines and missing columns land their good rows and report the bad ones
with their line numbers.
"""

from __future__ import annotations

import gzip
import json
import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from index import ArticleRecord, Catalogue
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import MAX_TITLE_CHARS, InvalidArticle, article_from_mapping
from recommender.ingestion.ingest import ingest
from tests.conftest import make_settings

FIELDS = ("id", "title", "body", "abstract", "url", "section", "tags", "language")
FIELDS += ("published_at", "popularity")

# Text from every plane, surrogates and control characters included, plus hand-picked trouble.
NASTY = [
    "",
    " ",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil RLO\u202c",
    "مرحبا بالعالم",  # Arabic, right to left
    "שלום עולם",  # Hebrew, right to left
    "e\u0301\u0301\u0301",  # stacked combining marks
    "👩‍👩‍👧‍👦 🏳️‍🌈",  # plane 1 with zero-width joiners
    "𠜎𠜱𠝹",  # plane 2
    "\U000e0041\U000e007f",  # plane 14 tag characters
    "\U000f0000\U0010fffd",  # planes 15 and 16, private use
    "\ud800 lone surrogate",
    "\ufeffBOM",
    "\ufffd replacement character",
    "line\nbreak\r\nand\ttab",
    "null\\u0000escaped",
]
any_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.text(string.printable, max_size=40),
)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "é", "𠜎", "ab ", "\x00"]),
    st.sampled_from([MAX_TITLE_CHARS - 1, MAX_TITLE_CHARS, MAX_TITLE_CHARS + 1, 250_000]),
)
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**5000, -(10**400), 2**63, float("nan"), float("inf"), -0.0, 1e308]),
    st.floats(),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
zones = st.one_of(
    st.none(),
    st.timezones(),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
)
dates = st.one_of(
    st.datetimes(timezones=zones).map(lambda d: d.isoformat()),
    st.datetimes(timezones=zones),
    st.datetimes(timezones=zones).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-02-30"]),
    st.sampled_from(["yesterday", "2026-13-01", "2026-09-01T25:00", "\uff11\uff12\uff13", "-1"]),
    st.integers(),
    st.floats(),
)
field_values = {
    "id": st.one_of(any_text, st.integers(), wrong_types, st.sampled_from(["a", "b", "c"])),
    "title": st.one_of(any_text, huge_text, wrong_types),
    "body": st.one_of(any_text, huge_text, wrong_types),
    "abstract": st.one_of(any_text, wrong_types),
    "url": st.one_of(any_text, wrong_types),
    "section": st.one_of(any_text, wrong_types),
    "tags": st.one_of(
        st.lists(st.one_of(any_text, wrong_types), max_size=4), any_text, wrong_types
    ),
    "language": st.one_of(any_text, wrong_types),
    "published_at": st.one_of(dates, wrong_types),
    "popularity": st.one_of(wrong_types, st.text(max_size=8)),
}
articles = st.fixed_dictionaries(
    {},
    optional={**field_values, "unexpected": wrong_types},  # type: ignore[dict-item]
)
# Mostly-valid articles, so that the hostile optional fields get past the id and title checks.
titled_articles = st.fixed_dictionaries(
    {
        "id": st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12),
        "title": st.one_of(any_text, st.sampled_from(["Storm closes the harbour"])),
    },
    optional={
        "body": any_text,
        "url": any_text,
        "section": any_text,
        "language": any_text,
        "tags": st.lists(any_text, max_size=4),
        "published_at": st.one_of(
            st.datetimes(timezones=zones).map(lambda d: d.isoformat()),
            st.datetimes(timezones=zones),
        ),
        "popularity": st.one_of(st.integers(0, 10**9), st.floats(0, 1e12)),
    },
)
# ... with at most one field replaced by anything at all.
one_hostile_field = st.one_of(
    st.just({}),
    st.sampled_from(sorted(field_values)).flatmap(lambda k: field_values[k].map(lambda v: {k: v})),
)
titled_articles = st.builds(lambda row, extra: {**row, **extra}, titled_articles, one_hostile_field)
# (.map(list) and .map(dict) stop one_of from flattening the branches and so losing the mix)
not_objects = st.lists(st.one_of(wrong_types, st.lists(st.integers(), max_size=2)), min_size=1)
hostile_rows = st.one_of(
    titled_articles.map(dict),
    titled_articles.map(dict),
    articles.map(dict),
    not_objects.map(lambda values: values[0]),
)


@pytest.fixture(scope="module")
def scratch_catalogue() -> Iterator[Catalogue]:
    directory = Path(tempfile.mkdtemp(prefix="hostile-"))
    with Catalogue(directory / "catalogue.sqlite") as catalogue:
        yield catalogue
    shutil.rmtree(directory)


def _is_clean_text(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def _outcome(raw: Any) -> ArticleRecord | InvalidArticle:
    try:
        return article_from_mapping(raw)
    except InvalidArticle as exc:
        return exc


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=hostile_rows)
def test_any_input_gives_a_clean_record_or_invalid_article(
    raw: Any, scratch_catalogue: Catalogue, ledger: Counter[str]
) -> None:
    ledger["inputs: generated articles"] += 1
    outcome = _outcome(raw)
    refused = isinstance(outcome, InvalidArticle)
    event(f"refused: {str(outcome).split(':', 1)[0]}" if refused else "accepted")
    if isinstance(outcome, InvalidArticle):
        field = str(outcome).split(":", 1)[0]
        assert field in FIELDS or str(outcome).startswith("expected an object"), outcome
        assert len(str(outcome)) < 300  # a huge value is never echoed whole
        return
    record = outcome
    assert record.id and _is_clean_text(record.id) and len(record.id) <= 200
    assert record.title and len(record.title) <= MAX_TITLE_CHARS
    for text in (record.title, record.body, record.url, record.section, *record.tags):
        assert text is None or _is_clean_text(text)
    assert record.published_at is None or record.published_at.utcoffset() == timedelta(0)
    assert 0 <= record.popularity < float("inf")
    # The catalogue takes every clean record and gives it back exactly.
    scratch_catalogue.upsert([record], {record.id: np.eye(1, 8, dtype=np.float32)[0]})
    stored = scratch_catalogue.get(record.id)
    assert stored is not None
    assert (stored.title, stored.body, stored.tags, stored.published_at) == (
        record.title,
        record.body,
        record.tags,
        record.published_at,
    )


def _line(row: object) -> bytes:
    # Lone surrogates cannot be written as UTF-8, so such rows go out with \u escapes.
    try:
        return (json.dumps(row, ensure_ascii=False, default=repr) + "\n").encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        try:
            return (json.dumps(row, default=repr) + "\n").encode("ascii")
        except ValueError:  # an integer beyond the digit limit of int-to-str conversion
            return b'{"id": 1' + b"0" * 5000 + b', "title": "huge integer id"}\n'


small_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))
batch_rows = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"id": st.sampled_from(["dup-1", "dup-2", "x", "ملف", 7]), "title": small_text},
            optional={"body": small_text, "published_at": dates, "tags": st.lists(small_text)},
        ),
        articles,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=batch_rows)
def test_a_hostile_batch_lands_its_good_rows_once_each_and_reports_the_rest(
    rows: list[object], embedder: Embedder, ledger: Counter[str]
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hostile-batch-"))
    try:
        lines = [_line(row) for row in rows]
        (workdir / "batch.jsonl").write_bytes(b"".join(lines))
        settings_ = make_settings(workdir / "home")
        expected_good: dict[str, str] = {}
        expected_bad: list[int] = []
        for number, line in enumerate(lines, start=1):
            try:
                record = article_from_mapping(json.loads(line))
            except (InvalidArticle, ValueError):
                expected_bad.append(number)
                continue
            expected_good[record.id] = record.title  # the last row of an id wins
        report = ingest([workdir / "batch.jsonl"], settings_, lambda: embedder)
        ledger["inputs: hostile ingest rows"] += len(rows)
        assert [p.line for p in report.problems] == expected_bad
        assert report.added == len(expected_good)
        with Catalogue(settings_.catalogue_path, readonly=True) as catalogue:
            stored = {r.id: r.title for r in catalogue.iter_records()}
        assert stored == expected_good
    finally:
        shutil.rmtree(workdir)


def _ingest_files(tmp_path: Path, embedder: Embedder, *files: Path) -> tuple[Any, set[str]]:
    settings_ = make_settings(tmp_path / "home")
    report = ingest(list(files), settings_, lambda: embedder)
    with Catalogue(settings_.catalogue_path, readonly=True) as catalogue:
        return report, {r.id for r in catalogue.iter_records()}


def _problems(report: Any) -> list[tuple[str, int]]:
    return [(Path(p.source).name, p.line) for p in report.problems]


def test_broken_json_lines_and_encodings_lose_only_the_broken_rows(
    tmp_path: Path, embedder: Embedder, ledger: Counter[str]
) -> None:
    lines = [
        b'{"id": "good-1", "title": "Harbour crane collapses in storm"}',
        b'{"id": "bad-bytes", "title": "Caf\xe9 \xff\xfe owner"}',  # Latin-1 and junk bytes
        b'{"id": "cut-off", "title": "Council ',
        b'["an", "array"]',
        b'{"id": "good-2", "title": "Replacement \xef\xbf\xbd character is legitimate"}',
        b'{"id": 1' + b"0" * 5000 + b', "title": "an id of 5,000 digits"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "good-3", "title": "Ferry timetable changes", "published_at": "2026-09-01"}',
        b"\x00\x00\x00",
    ]
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report, landed = _ingest_files(tmp_path, embedder, path)
    ledger["inputs: malformed file rows"] += len(lines)
    assert landed == {"good-1", "good-2", "good-3"}
    assert _problems(report) == [("broken.jsonl", n) for n in (2, 3, 4, 6, 7, 9)]
    assert "UTF-8" in report.problems[0].reason
    assert "JSON" in report.problems[1].reason


def test_csv_rows_with_missing_or_extra_cells_are_reported_with_line_numbers(
    tmp_path: Path, embedder: Embedder, ledger: Counter[str]
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(
        b"id,title,body\n"
        b"c1,Bridge reopens after repairs,The bridge reopened on Monday.\n"
        b"c2,Missing a cell\n"
        b"c3,Too,many,cells\n"
        b"c4,Bad \xff bytes,body\n"
        b",No id,body\n"
        b'c5,"A title, with a comma",fine\n'
    )
    report, landed = _ingest_files(tmp_path, embedder, path)
    ledger["inputs: malformed file rows"] += 6
    assert landed == {"c1", "c5"}
    assert _problems(report) == [("rows.csv", n) for n in (3, 4, 5, 6)]


def test_a_file_missing_required_columns_is_reported_and_other_files_still_land(
    tmp_path: Path, embedder: Embedder
) -> None:
    no_title = tmp_path / "no_title.csv"
    no_title.write_text("id,headline\nn1,Wrong column name\n")
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "g1", "title": "Library extends opening hours"}\n')
    report, landed = _ingest_files(tmp_path, embedder, no_title, good)
    assert landed == {"g1"}
    assert len(report.unreadable) == 1
    assert "no_title.csv" in report.unreadable[0] and "'title'" in report.unreadable[0]


def test_a_truncated_gzip_file_lands_the_rows_before_the_cut(
    tmp_path: Path, embedder: Embedder, ledger: Counter[str]
) -> None:
    rows = [{"id": f"z{i}", "title": f"Zoo welcomes animal number {i}"} for i in range(40)]
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 3 // 4])
    report, landed = _ingest_files(tmp_path, embedder, path)
    ledger["inputs: malformed file rows"] += len(rows)
    assert landed and landed <= {r["id"] for r in rows}
    assert len(landed) >= 10
    assert [p.line for p in report.problems] == [len(landed) + 1]
    assert "cut.jsonl.gz" in report.problems[0].source


def test_dates_in_any_zone_are_stored_as_the_same_instant_in_utc() -> None:
    cases = {
        "2026-09-01T12:00:00+05:30": datetime(2026, 9, 1, 6, 30, tzinfo=UTC),
        "2026-09-01T12:00:00Z": datetime(2026, 9, 1, 12, 0, tzinfo=UTC),
        "2026-09-01T12:00:00": datetime(2026, 9, 1, 12, 0, tzinfo=UTC),  # no zone: UTC
        "2026-09-01": datetime(2026, 9, 1, 0, 0, tzinfo=UTC),
        "2026-09-01T12:00:00-11:00": datetime(2026, 9, 1, 23, 0, tzinfo=UTC),
    }
    for text, instant in cases.items():
        record = article_from_mapping({"id": "d", "title": "t", "published_at": text})
        assert record.published_at == instant, text
