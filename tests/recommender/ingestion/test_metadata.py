"""Article metadata: ``author``, ``kind`` and the newsroom's own ``fields``, read from every
file format the same way, bounded, and refused with the field named when out of bounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from index import Catalogue
from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from recommender.ingestion.files import Row, read_rows
from recommender.ingestion.metadata import MAX_FIELDS, field_text

EXPECTED = ("Ana Ruiz", "opinion", (("desk", "metro"), ("premium", True), ("words", 840)))


def _article(**metadata: Any) -> tuple[str | None, str | None, tuple[tuple[str, Any], ...]]:
    record = article_from_mapping({"id": "a", "title": "A title", **metadata})
    return record.author, record.kind, record.fields


def _from_file(path: Path) -> tuple[str | None, str | None, tuple[tuple[str, Any], ...]]:
    (row,) = [r for r in read_rows(path) if isinstance(r, Row)]
    record = article_from_mapping(row.fields)
    return record.author, record.kind, record.fields


def test_jsonl_carries_author_kind_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    article = {
        "id": "a",
        "title": "A title",
        "author": "Ana Ruiz",
        "kind": "Opinion",
        "fields": {"desk": "metro", "premium": True, "words": 840},
    }
    path.write_text(json.dumps(article) + "\n")
    assert _from_file(path) == EXPECTED


def test_csv_carries_fields_as_json_text_or_as_field_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "id,title,author,kind,fields,field.desk\n"
        'a,A title,Ana Ruiz,opinion,"{""premium"": true, ""words"": 840}",metro\n'
    )
    assert _from_file(path) == EXPECTED


def test_an_empty_csv_field_column_leaves_the_field_out(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,title,field.desk,field.words\na,A title,,12\n")
    assert _from_file(path) == (None, None, (("words", "12"),))


def test_parquet_carries_fields_as_a_struct_column(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    table = pa.table(
        {
            "id": ["a"],
            "title": ["A title"],
            "author": ["Ana Ruiz"],
            "kind": ["opinion"],
            "fields": [{"desk": "metro", "premium": True, "words": 840}],
        }
    )
    pq.write_table(table, path)
    assert _from_file(path) == EXPECTED


def test_an_article_without_metadata_has_none() -> None:
    assert _article() == (None, None, ())


def test_author_is_kept_on_one_line_as_written() -> None:
    assert _article(author="  Ana\n Ruiz  ")[0] == "Ana Ruiz"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"author": "x" * 201}, "author: 201 characters, the limit is 200"),
        ({"author": 7}, "author: expected text, got int"),
        ({"kind": "op ed"}, "kind: 'op ed' must be one short word"),
        ({"kind": "x" * 41}, "must be one short word"),
        ({"fields": "[1, 2]"}, "fields: expected an object, got list"),
        ({"fields": "{not json"}, "fields: not a JSON object"),
        ({"fields": {"Desk": "metro"}}, "fields: name 'Desk' must be a lower-case letter"),
        ({"fields": {"desk": {"a": 1}}}, "fields: desk must be text, a number or a boolean"),
        ({"fields": {"desk": [1]}}, "fields: desk must be text, a number or a boolean"),
        ({"fields": {"n": float("inf")}}, "fields: n must be a finite number"),
        ({"fields": {"n": 2**60}}, "fields: n is an integer beyond 2**53"),
        ({"fields": {"desk": "x" * 201}}, "fields: desk has 201 characters, the limit is 200"),
        (
            {"fields": {f"f{i}": i for i in range(MAX_FIELDS + 1)}},
            f"fields: {MAX_FIELDS + 1} fields, the limit is {MAX_FIELDS}",
        ),
        ({"fields": {"desk": "a"}, "field.desk": "b"}, "'desk' given twice"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_metadata_out_of_bounds_is_refused_naming_the_field(
    metadata: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArticle, match=message.replace("*", r"\*").replace("(", r"\(")):
        _article(**metadata)


def test_a_field_filter_matches_csv_text_and_json_values_alike() -> None:
    assert [field_text(v) for v in (True, False, 840, 840.0, 0.5, "Metro")] == [
        "true",
        "false",
        "840",
        "840",
        "0.5",
        "metro",
    ]


def test_metadata_survives_the_catalogue_and_a_change_is_an_update(tmp_path: Path) -> None:
    record = article_from_mapping(
        {"id": "a", "title": "A title", "author": "Ana Ruiz", "fields": {"words": 840}}
    )
    with Catalogue(tmp_path / "catalogue.sqlite") as catalogue:
        catalogue.upsert([record], {"a": np.ones(4, dtype=np.float32)})
        assert catalogue.get("a") == catalogue.get_by_doc_ids([1])[0]
        stored = catalogue.get("a")
        assert stored is not None and (stored.author, stored.fields) == (
            "Ana Ruiz",
            (("words", 840),),
        )
        retagged = article_from_mapping({"id": "a", "title": "A title", "kind": "news"})
        counts = catalogue.upsert([retagged], {})  # same text: no new vector needed
        assert (counts.updated, counts.unchanged) == (1, 0)
        stored = catalogue.get("a")
        assert stored is not None and (stored.author, stored.kind, stored.fields) == (
            None,
            "news",
            (),
        )
