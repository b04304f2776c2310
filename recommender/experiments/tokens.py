"""Recommendation ids: a signed, self-contained record of one served answer.

A click or an impression names the answer it came from by its ``recommendation_id``. The id is
the answer's :class:`Trace` (source, the lists' article ids in served order, variant, teams,
index version, reader hash, time of issue, a random nonce) serialised as compact JSON, zlib'd
when that is shorter, and signed with HMAC by :mod:`itsdangerous`: nothing is stored per view,
and the feedback log alone holds everything needed to replay it. Article ids are kept in full
for that reason.

``issued_at`` survives the round trip to the millisecond (the payload keeps milliseconds since
the epoch); every other field survives exactly. An id expires ``ttl`` after its ``issued_at``
(and after the signature's own timestamp, so a signed id cannot outlive its key's ttl by
claiming a later time).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadPayload, BadSignature, SignatureExpired, URLSafeTimedSerializer

__all__ = [
    "MAX_TOKEN_CHARS",
    "InvalidRecommendation",
    "Reason",
    "RecommendationIds",
    "Trace",
    "new_nonce",
]

#: Longer strings are refused unread: no answer we serve signs to more than this.
MAX_TOKEN_CHARS = 8_192
_SALT = "newsrec.recommendation"
# itsdangerous' URL-safe timed form: [.]payload.timestamp.signature (a leading "." marks zlib).
_SHAPE = re.compile(r"\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

Reason = Literal["malformed", "forged", "expired"]


@dataclass(frozen=True)
class Trace:
    """What one served answer showed, as its recommendation id carries it."""

    source: str  # source article id; "" for a draft text
    lists: Mapping[str, tuple[str, ...]]  # list name -> article ids in served order
    teams: Mapping[str, tuple[str, ...]]  # interleaving only: list name -> variant per position
    variant: str
    experiment: str | None
    index_version: str
    reader: str | None  # the reader's hash (assignment.reader_hash), never the raw id
    issued_at: datetime  # timezone-aware
    nonce: str  # 16 hex characters, random per served answer (new_nonce)


class InvalidRecommendation(ValueError):
    """A recommendation id that is not one (``malformed``), whose signature does not match
    (``forged``), or that is older than its ttl (``expired``)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def new_nonce() -> str:
    """A fresh random nonce for one served answer: 16 hex characters."""
    return secrets.token_hex(8)


class RecommendationIds:
    """Issues and checks recommendation ids signed with one secret."""

    def __init__(self, secret: bytes, ttl: timedelta) -> None:
        """``secret`` signs (see :func:`recommender.experiments.secret.home_secret`); an id is
        accepted for ``ttl`` after it was issued.

        Raises:
            ValueError: an empty secret or a ttl that is not positive.
        """
        if not secret:
            raise ValueError("the recommendation secret is empty")
        if ttl <= timedelta(0):
            raise ValueError(f"the recommendation ttl must be positive, got {ttl}")
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._ttl = ttl

    def issue(self, trace: Trace) -> str:
        """The signed id of ``trace``: URL-safe, at most :data:`MAX_TOKEN_CHARS` characters.

        Raises:
            ValueError: a naive ``issued_at``, or a trace too large to sign.
        """
        token = self._serializer.dumps(_payload(trace))
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError(
                f"recommendation id of {len(token)} characters exceeds {MAX_TOKEN_CHARS}"
            )
        return token

    def check(self, token: str) -> Trace:
        """The trace that ``token`` was issued for.

        Raises:
            InvalidRecommendation: ``malformed``, ``forged`` or ``expired``.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidRecommendation("malformed", "not a recommendation id")
        if _SHAPE.fullmatch(token) is None:
            raise InvalidRecommendation("malformed", "not a recommendation id")
        max_age = max(1, int(self._ttl.total_seconds()))
        try:
            payload = self._serializer.loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise InvalidRecommendation("expired", "recommendation id has expired") from exc
        except BadPayload as exc:
            # Signed with our key, yet not our format: a bug or a leaked key, never a click.
            message = "recommendation id payload is unreadable"
            raise InvalidRecommendation("malformed", message) from exc
        except BadSignature as exc:
            # Right shape, wrong signature (or an unreadable timestamp): not signed by us.
            message = "recommendation id is not signed by this server"
            raise InvalidRecommendation("forged", message) from exc
        trace = _trace(payload)
        if datetime.now(UTC) - trace.issued_at > self._ttl:
            raise InvalidRecommendation("expired", "recommendation id has expired")
        return trace


def _payload(trace: Trace) -> dict[str, Any]:
    if trace.issued_at.tzinfo is None:
        raise ValueError("Trace.issued_at must be timezone-aware")
    payload: dict[str, Any] = {
        "s": trace.source,
        "l": {name: list(ids) for name, ids in trace.lists.items()},
        "v": trace.variant,
        "x": trace.index_version,
        "i": round(trace.issued_at.timestamp() * 1000),
        "n": trace.nonce,
    }
    # Absent rather than empty or null: most answers are in no experiment and have no reader.
    if trace.teams:
        payload["t"] = {name: list(teams) for name, teams in trace.teams.items()}
    if trace.experiment is not None:
        payload["e"] = trace.experiment
    if trace.reader is not None:
        payload["r"] = trace.reader
    return payload


def _trace(payload: object) -> Trace:
    # Signed by us, so only a change of format (or a leaked key) gets here: refuse, never guess.
    try:
        if not isinstance(payload, dict):
            raise TypeError("payload is not an object")
        millis = payload["i"]
        if not isinstance(millis, int) or isinstance(millis, bool):
            raise TypeError("issued_at is not an integer")
        return Trace(
            source=_str(payload["s"]),
            lists=_sequences(payload["l"]),
            teams=_sequences(payload.get("t", {})),
            variant=_str(payload["v"]),
            experiment=_optional_str(payload.get("e")),
            index_version=_str(payload["x"]),
            reader=_optional_str(payload.get("r")),
            issued_at=datetime.fromtimestamp(millis / 1000, UTC),
            nonce=_str(payload["n"]),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise InvalidRecommendation("malformed", f"recommendation id payload: {exc}") from exc


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _sequences(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of lists, got {type(value).__name__}")
    out: dict[str, tuple[str, ...]] = {}
    for name, items in value.items():
        if not isinstance(items, list):
            raise TypeError(f"list {name!r} is not an array")
        out[_str(name)] = tuple(_str(item) for item in items)
    return out
