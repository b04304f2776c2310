"""Checking impressions and clicks against their recommendation id: what matches the served
list becomes feedback with a stable key; anything else is refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from index.feedback import Feedback
from recommender.experiments.feedback import (
    FEEDBACK_REASONS,
    InvalidFeedback,
    click_event,
    click_from,
    feedback_from_mapping,
    impressions_from,
)
from recommender.experiments.tokens import RecommendationIds, Trace

# Milliseconds: what an id keeps of its time of issue.
NOW = datetime.now(UTC).replace(microsecond=0)
TRACE = Trace(
    source="S",
    lists={"more_like_this": ("A", "B", "C"), "related": ("D", "B"), "popular": ()},
    teams={"related": ("A", "B")},
    variant="interleaved",
    experiment="weights-12",
    index_version="v000002",
    reader="0123456789abcdef",
    issued_at=NOW - timedelta(minutes=1),
    nonce="00112233aabbccdd",
)
IDS = RecommendationIds(b"k" * 32, timedelta(days=1))


def _reason(call: object) -> str:
    assert callable(call)
    with pytest.raises(InvalidFeedback) as caught:
        call()
    assert caught.value.reason in FEEDBACK_REASONS
    return caught.value.reason


def test_an_impression_without_a_list_is_one_per_list_served_with_items() -> None:
    rows = impressions_from(TRACE, list_name=None, visible=None, at=NOW)
    assert [(r.key, r.list_name, r.shown, r.visible) for r in rows] == [
        ("imp:00112233aabbccdd:more_like_this", "more_like_this", ("A", "B", "C"), None),
        ("imp:00112233aabbccdd:related", "related", ("D", "B"), None),
    ]


def test_an_impression_copies_the_answer_from_its_trace() -> None:
    (row,) = impressions_from(TRACE, list_name="related", visible=[2, 1, 2], at=NOW)
    assert row == Feedback(
        kind="impression",
        key="imp:00112233aabbccdd:related",
        at=NOW,
        recommendation="00112233aabbccdd",
        experiment="weights-12",
        variant="interleaved",
        list_name="related",
        source="S",
        reader="0123456789abcdef",
        index_version="v000002",
        shown=("D", "B"),
        teams=("A", "B"),
        visible=(1, 2),
        issued_at=TRACE.issued_at,
    )


def test_impression_errors_name_their_reason() -> None:
    assert _reason(lambda: impressions_from(TRACE, list_name="x", visible=None, at=NOW)) == "list"
    assert (
        _reason(lambda: impressions_from(TRACE, list_name="related", visible=[3], at=NOW))
        == "position"
    )
    assert (
        _reason(lambda: impressions_from(TRACE, list_name=None, visible=[1], at=NOW)) == "ambiguous"
    )


def test_a_click_is_keyed_by_answer_list_and_position_and_keeps_its_teams() -> None:
    row = click_from(TRACE, list_name="related", position=2, article_id="B", at=NOW)
    assert (row.kind, row.key, row.position, row.article_id, row.shown, row.teams) == (
        "click",
        "click:00112233aabbccdd:related:2",
        2,
        "B",
        (),
        ("A", "B"),
    )


def test_a_click_without_a_list_finds_the_one_holding_the_article_there() -> None:
    row = click_from(TRACE, list_name=None, position=3, article_id="C", at=NOW)
    assert row.list_name == "more_like_this"


@pytest.mark.parametrize(
    ("list_name", "position", "article_id", "reason"),
    [
        ("related", 3, "B", "position"),  # past the end of the list
        (None, 4, "B", "position"),  # past the end of every list
        ("related", 1, "B", "article"),  # another article there
        (None, 1, "B", "article"),
        ("nope", 1, "A", "list"),
        (None, 2, "B", "ambiguous"),  # B is second in both lists
        ("related", 0, "D", "position"),
    ],
)
def test_click_errors_name_their_reason(
    list_name: str | None, position: int, article_id: str, reason: str
) -> None:
    call = lambda: click_from(  # noqa: E731
        TRACE, list_name=list_name, position=position, article_id=article_id, at=NOW
    )
    assert _reason(call) == reason


def test_a_checked_click_is_also_an_ordinary_click_by_the_reader_hash() -> None:
    row = click_from(TRACE, list_name="related", position=1, article_id="D", at=NOW)
    event = click_event(row, user="raw-user")
    assert (event.article_id, event.kind, event.at, event.user, event.key) == (
        "D",
        "click",
        NOW,
        "0123456789abcdef",
        row.key,
    )


def test_mapping_goes_through_the_signed_id() -> None:
    token = IDS.issue(TRACE)
    raw = {"kind": "click", "recommendation_id": token, "position": "2", "article_id": "B"}
    assert _reason(lambda: feedback_from_mapping(raw, IDS, at=NOW)) == "ambiguous"
    (row,) = feedback_from_mapping({**raw, "list": "related"}, IDS, at=NOW)
    assert row.key == "click:00112233aabbccdd:related:2"
    rows = feedback_from_mapping(
        {
            "kind": "impression",
            "recommendation_id": token,
            "list": "more_like_this",
            "visible": "1,3",
        },
        IDS,
        at=NOW,
    )
    assert [row.visible for row in rows] == [(1, 3)]


def test_a_flipped_character_is_forged_and_garbage_malformed() -> None:
    token = IDS.issue(TRACE)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    raw = {"kind": "impression", "recommendation_id": flipped}
    assert _reason(lambda: feedback_from_mapping(raw, IDS, at=NOW)) == "forged"
    raw = {"kind": "impression", "recommendation_id": "not a token"}
    assert _reason(lambda: feedback_from_mapping(raw, IDS, at=NOW)) == "malformed"


def test_an_id_from_before_the_ttl_is_expired() -> None:
    old = Trace(**{**TRACE.__dict__, "issued_at": NOW - timedelta(days=2)})
    raw = {"kind": "impression", "recommendation_id": IDS.issue(old)}
    assert _reason(lambda: feedback_from_mapping(raw, IDS, at=NOW)) == "expired"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"kind": "view"}, "malformed"),
        ({"position": None}, "position"),
        ({"position": 1.5}, "malformed"),
        ({"article_id": ""}, "article"),
        ({"list": 3}, "malformed"),
    ],
)
def test_bad_fields_of_a_mapping_name_their_reason(extra: dict[str, object], reason: str) -> None:
    raw = {
        "kind": "click",
        "recommendation_id": IDS.issue(TRACE),
        "position": 1,
        "article_id": "A",
        **extra,
    }
    assert _reason(lambda: feedback_from_mapping(raw, IDS, at=NOW)) == reason
