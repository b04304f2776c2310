"""Recommendation ids: a signed trace that round-trips, and refuses forgeries, old ids and junk."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from recommender.experiments.tokens import (
    MAX_TOKEN_CHARS,
    InvalidRecommendation,
    RecommendationIds,
    Trace,
    new_nonce,
)

SECRET = b"0123456789abcdef0123456789abcdef"
TTL = timedelta(days=30)


def _trace(**changes: object) -> Trace:
    fields: dict[str, object] = {
        "source": "sample-039",
        "lists": {
            "more_like_this": ("sample-001", "sample-017", "ünïcode/id with spaces"),
            "related": ("sample-017", "sample-101"),
        },
        "teams": {},
        "variant": "B",
        "experiment": "related-weights-2026-12",
        "index_version": "v0007",
        "reader": "0123456789abcdef",
        "issued_at": datetime(2026, 12, 5, 12, 0, 0, 123000, tzinfo=UTC),
        "nonce": "00ff00ff00ff00ff",
    }
    fields.update(changes)
    return Trace(**fields)  # type: ignore[arg-type]


def _fresh(**changes: object) -> Trace:
    now = datetime.now(UTC).replace(microsecond=0)
    return _trace(issued_at=now, **changes)


def _reason(ids: RecommendationIds, token: str) -> str:
    with pytest.raises(InvalidRecommendation) as caught:
        ids.check(token)
    return caught.value.reason


def test_every_field_survives_the_round_trip() -> None:
    ids = RecommendationIds(SECRET, TTL)
    trace = _fresh()
    assert ids.check(ids.issue(trace)) == trace


def test_interleaved_teams_and_absent_experiment_and_reader_survive() -> None:
    ids = RecommendationIds(SECRET, TTL)
    trace = _fresh(
        teams={"related": ("A", "B"), "more_like_this": ("B", "A", "A")},
        experiment=None,
        reader=None,
        source="",
        variant="interleaved",
    )
    assert ids.check(ids.issue(trace)) == trace


def test_list_order_is_kept() -> None:
    ids = RecommendationIds(SECRET, TTL)
    trace = _fresh(lists={"related": ("b",), "more_like_this": ("a",)})
    assert list(ids.check(ids.issue(trace)).lists) == ["related", "more_like_this"]


def test_issued_at_survives_to_the_millisecond() -> None:
    ids = RecommendationIds(SECRET, TTL)
    now = datetime.now(UTC)
    restored = ids.check(ids.issue(_trace(issued_at=now))).issued_at
    assert abs(restored - now) < timedelta(milliseconds=1)
    assert restored.tzinfo is not None


def test_an_id_is_url_safe() -> None:
    token = RecommendationIds(SECRET, TTL).issue(_fresh())
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)


def test_a_flipped_character_in_the_payload_is_forged() -> None:
    ids = RecommendationIds(SECRET, TTL)
    token = ids.issue(_fresh())
    middle = len(token) // 3
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    assert _reason(ids, flipped) == "forged"


def test_a_flipped_character_in_the_signature_is_forged() -> None:
    ids = RecommendationIds(SECRET, TTL)
    token = ids.issue(_fresh())
    # Not the last character: its low bits are base64 padding and may decode to the same bytes.
    at = len(token) - 5
    flipped = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
    assert _reason(ids, flipped) == "forged"


def test_an_id_signed_with_another_key_is_forged() -> None:
    token = RecommendationIds(b"another key, long enough......", TTL).issue(_fresh())
    assert _reason(RecommendationIds(SECRET, TTL), token) == "forged"


def test_an_id_older_than_the_ttl_is_expired() -> None:
    ids = RecommendationIds(SECRET, timedelta(days=1))
    old = datetime.now(UTC) - timedelta(days=1, minutes=1)
    assert _reason(ids, ids.issue(_trace(issued_at=old))) == "expired"


def test_an_id_within_the_ttl_is_accepted() -> None:
    ids = RecommendationIds(SECRET, timedelta(days=1))
    recent = datetime.now(UTC) - timedelta(hours=23)
    assert ids.check(ids.issue(_trace(issued_at=recent))).issued_at.hour == recent.hour


def test_a_forged_old_id_is_forged_not_expired() -> None:
    old = datetime.now(UTC) - timedelta(days=100)
    token = RecommendationIds(b"another key, long enough......", TTL).issue(_trace(issued_at=old))
    assert _reason(RecommendationIds(SECRET, TTL), token) == "forged"


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "not a token at all!", "a.b", "{}", "..", "a..b", "x" * (MAX_TOKEN_CHARS + 1)],
)
def test_what_is_not_an_id_is_malformed(token: str) -> None:
    assert _reason(RecommendationIds(SECRET, TTL), token) == "malformed"


def test_a_too_long_id_is_malformed_even_with_the_right_shape() -> None:
    ids = RecommendationIds(SECRET, TTL)
    token = ids.issue(_fresh())
    padded = "A" * (MAX_TOKEN_CHARS - len(token) + 1) + token
    assert _reason(ids, padded) == "malformed"


def test_a_signed_payload_that_is_not_json_is_malformed() -> None:
    signer = URLSafeTimedSerializer(SECRET, salt="newsrec.recommendation").make_signer()
    token = signer.sign(b"bm90IGpzb24").decode()  # base64 of "not json"
    assert _reason(RecommendationIds(SECRET, TTL), token) == "malformed"


def test_a_signed_payload_that_is_not_a_trace_is_malformed() -> None:
    token = URLSafeTimedSerializer(SECRET, salt="newsrec.recommendation").dumps({"s": 1})
    assert _reason(RecommendationIds(SECRET, TTL), token) == "malformed"


def test_a_naive_issued_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        RecommendationIds(SECRET, TTL).issue(_trace(issued_at=datetime(2026, 12, 5)))


def test_a_trace_too_large_to_accept_back_is_refused_at_issue() -> None:
    # Random ids: zlib cannot shrink them.
    huge = tuple("".join(new_nonce() for _ in range(8)) for _ in range(200))
    with pytest.raises(ValueError, match="exceeds"):
        RecommendationIds(SECRET, TTL).issue(_fresh(lists={"related": huge}))


def test_an_empty_secret_or_a_ttl_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        RecommendationIds(b"", TTL)
    with pytest.raises(ValueError, match="ttl"):
        RecommendationIds(SECRET, timedelta(0))


def test_nonces_are_16_hex_characters_and_differ() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(re.fullmatch(r"[0-9a-f]{16}", n) for n in nonces)


def test_the_reason_is_readable_on_the_error() -> None:
    with pytest.raises(InvalidRecommendation, match="not a recommendation id") as caught:
        RecommendationIds(SECRET, TTL).check("garbage")
    assert isinstance(caught.value, ValueError)
