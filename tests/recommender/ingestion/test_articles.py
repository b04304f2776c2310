"""Specification of article validation: what is accepted, normalised, and refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recommender.ingestion.articles import (
    InvalidArticle,
    article_from_mapping,
    content_hash,
    parse_datetime,
    snippet,
)


def test_minimal_article_needs_only_id_and_title() -> None:
    record = article_from_mapping({"id": "a1", "title": "Bridge closes"})
    assert (record.id, record.title, record.body, record.tags) == ("a1", "Bridge closes", "", ())
    assert record.published_at is None and record.popularity == 0.0


def test_time_without_zone_is_utc() -> None:
    assert parse_datetime("2026-09-01T10:00:00") == datetime(2026, 9, 1, 10, tzinfo=UTC)


def test_time_with_offset_is_converted_to_utc() -> None:
    assert parse_datetime("2026-09-01T12:00:00+02:00") == datetime(2026, 9, 1, 10, tzinfo=UTC)


def test_z_suffix_is_accepted() -> None:
    assert parse_datetime("2026-09-01T10:00:00Z") == datetime(2026, 9, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"title": "x"}, "id"),
        ({"id": "", "title": "x"}, "id"),
        ({"id": ["a"], "title": "x"}, "id"),
        ({"id": "a b", "title": "x"}, "id"),
        ({"id": "a"}, "title"),
        ({"id": "a", "title": "   "}, "title"),
        ({"id": "a", "title": 5}, "title"),
        ({"id": "a", "title": "x", "published_at": "yesterday"}, "published_at"),
        ({"id": "a", "title": "x", "popularity": -3}, "popularity"),
        ({"id": "a", "title": "x", "popularity": "many"}, "popularity"),
        ({"id": "a", "title": "x", "tags": [1, 2]}, "tags"),
        ({"id": "a", "title": "x" * 1001}, "title"),
    ],
)
def test_bad_field_is_refused_with_its_name(row: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArticle, match=f"^{field}:"):
        article_from_mapping(row)


def test_integer_id_becomes_text() -> None:
    assert article_from_mapping({"id": 17, "title": "x"}).id == "17"


def test_abstract_stands_in_for_body() -> None:
    assert article_from_mapping({"id": "a", "title": "t", "abstract": "lead"}).body == "lead"


def test_tags_from_a_csv_cell_are_split_and_lowercased() -> None:
    assert article_from_mapping({"id": "a", "title": "t", "tags": "Floods; River,flood"}).tags == (
        "floods",
        "river",
        "flood",
    )


def test_control_characters_and_newlines_are_folded_to_spaces() -> None:
    assert article_from_mapping({"id": "a", "title": "A\x00B\nC\tD"}).title == "A B C D"


def test_content_hash_changes_with_text_only() -> None:
    a = article_from_mapping({"id": "a", "title": "t", "body": "b", "popularity": 1})
    b = article_from_mapping({"id": "b", "title": "t", "body": "b", "popularity": 9})
    assert a.content_hash == b.content_hash == content_hash("t", "b")
    assert content_hash("t", "b2") != a.content_hash


def test_snippet_is_at_most_160_characters_and_cut_at_a_word() -> None:
    text = "word " * 100
    cut = snippet(text)
    assert len(cut) <= 160 and cut.endswith("…") and not cut[:-1].endswith(" ")
    assert snippet("short lead") == "short lead"
