"""Facets: which published articles carry each filter value, kept as articles come and go, and
the refusal of a value no article carries, naming the ones that exist."""

from __future__ import annotations

import numpy as np
import pytest

from index import ArticleRecord
from recommender.serving.facets import Facets, UnknownFilterValue
from recommender.serving.requests import ListRequest, parse_field_filters


def _record(doc: int, **metadata: object) -> ArticleRecord:
    values: dict[str, object] = {
        "id": f"a{doc}",
        "title": f"Article {doc}",
        "body": "",
        "url": None,
        "section": "news",
        "tags": (),
        "language": "en",
        "published_at": None,
        "popularity": 0.0,
        "content_hash": "h",
        "doc_id": doc,
        **metadata,
    }
    return ArticleRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def facets() -> Facets:
    found = Facets()
    found.put(1, _record(1, author="Ana Ruiz", kind="news", fields=(("desk", "metro"),)))
    found.put(2, _record(2, author="Tom Okafor", kind="opinion", tags=("bridge", "council")))
    found.put(
        3, _record(3, kind="video", tags=("bridge",), fields=(("desk", "metro"), ("premium", True)))
    )
    return found


DOCS = np.array([1, 2, 3], dtype=np.int64)


def _admitted(facets: Facets, **filters: object) -> list[int]:
    request = ListRequest(**filters)  # type: ignore[arg-type]
    return DOCS[facets.admits(DOCS, request)].tolist()


def test_values_of_one_filter_are_alternatives(facets: Facets) -> None:
    assert _admitted(facets, kinds=frozenset({"news", "video"})) == [1, 3]


def test_filters_apply_all_at_once(facets: Facets) -> None:
    request = {"tags": frozenset({"bridge"}), "fields": parse_field_filters(["desk=metro"])}
    assert _admitted(facets, **request) == [3]


def test_values_match_without_regard_to_case(facets: Facets) -> None:
    assert _admitted(facets, authors=frozenset({"ana RUIZ"})) == [1]
    assert _admitted(facets, fields=parse_field_filters(["premium=TRUE"])) == [3]


def test_an_article_put_again_carries_only_its_new_values(facets: Facets) -> None:
    facets.put(1, _record(1, kind="analysis"))
    assert _admitted(facets, kinds=frozenset({"news"})) == []
    assert facets.known("kind") == ["analysis", "opinion", "video"]
    assert facets.known("author") == ["tom okafor"]


def test_a_dropped_article_carries_nothing_and_its_values_are_forgotten(facets: Facets) -> None:
    facets.drop(3)
    assert _admitted(facets, tags=frozenset({"bridge"})) == [2]
    assert facets.known("kind") == ["news", "opinion"]
    assert facets.field_names() == ["desk"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"kinds": frozenset({"opinon"})},
            "unknown kind 'opinon' (did you mean 'opinion'?); the kinds are: news, opinion, video",
        ),
        (
            {"sections": frozenset({"sport"})},
            "unknown section 'sport'; the sections are: news",
        ),
        (
            {"language": "fr"},
            "unknown language 'fr'; the languages are: en",
        ),
        (
            {"fields": (("dsk", frozenset({"metro"})),)},
            "unknown field 'dsk' (did you mean 'desk'?); the fields are: desk, premium",
        ),
        (
            {"fields": (("desk", frozenset({"metor"})),)},
            "unknown desk 'metor' (field.desk=) (did you mean 'metro'?); "
            "the values of desk are: metro",
        ),
    ],
    ids=lambda v: str(v)[:30],
)
def test_a_value_no_article_carries_is_refused_naming_the_known_ones(
    facets: Facets, filters: dict[str, object], message: str
) -> None:
    with pytest.raises(UnknownFilterValue) as refused:
        facets.check(ListRequest(**filters))  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_a_facet_no_article_has_says_so(facets: Facets) -> None:
    empty = Facets()
    with pytest.raises(UnknownFilterValue, match="no published article has any authors"):
        empty.check(ListRequest(authors=frozenset({"ana ruiz"})))


def test_many_known_values_are_counted_not_listed() -> None:
    facets = Facets()
    for doc in range(40):
        facets.put(doc, _record(doc, author=f"Reporter {doc}"))
    with pytest.raises(UnknownFilterValue) as refused:
        facets.check(ListRequest(authors=frozenset({"reporter 400"})))
    assert str(refused.value).endswith("; 40 authors are known")


def test_known_values_pass(facets: Facets) -> None:
    facets.check(
        ListRequest(
            sections=frozenset({"NEWS"}),
            kinds=frozenset({"video"}),
            tags=frozenset({"council"}),
            fields=parse_field_filters(["desk=Metro", "premium=true"]),
        )
    )


def test_a_field_filter_needs_a_name_and_a_value() -> None:
    with pytest.raises(ValueError, match="field filter 'desk': expected NAME=VALUE"):
        parse_field_filters(["desk"])
