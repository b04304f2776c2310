"""Checking impressions and clicks against the recommendation id they name.

An impression says "this list of that answer was shown" (optionally: these positions were
visible); a click says "the reader clicked the article at this position of that list". Both
name the answer by its recommendation id (:mod:`recommender.experiments.tokens`), which carries
everything served, so a click is checked without any state kept per view: the position must
hold the clicked article in that list. Feedback that fails a check raises
:class:`InvalidFeedback` with a short ``reason`` and is never counted for a variant.

Each row has a key derived from its answer's nonce, list and position (``imp:{nonce}:{list}``,
``click:{nonce}:{list}:{position}``), so posting the same feedback twice stores it once. The
same rules serve ``POST /events`` and ``newsrec events``: both call
:func:`feedback_from_mapping`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from index.events import Event
from index.feedback import FEEDBACK_KINDS, Feedback
from recommender.experiments.tokens import InvalidRecommendation, RecommendationIds, Trace

__all__ = [
    "FEEDBACK_REASONS",
    "InvalidFeedback",
    "click_event",
    "click_from",
    "feedback_from_mapping",
    "impressions_from",
]

#: Every ``InvalidFeedback.reason``, e.g. to label a counter of rejections.
FEEDBACK_REASONS: tuple[str, ...] = (
    "forged",
    "expired",
    "malformed",
    "position",
    "article",
    "list",
    "ambiguous",
)


class InvalidFeedback(ValueError):
    """An impression or click that does not match its recommendation id; ``reason`` is one of
    :data:`FEEDBACK_REASONS` and the message says what is wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def impressions_from(
    trace: Trace, *, list_name: str | None, visible: Sequence[int] | None, at: datetime
) -> list[Feedback]:
    """The impressions of the answer ``trace``: of ``list_name``, or of every list it served
    with at least one item when None; ``visible`` names the 1-based positions seen (None: all).

    Raises:
        InvalidFeedback: ``list`` (the answer has no such list), ``position`` (a visible
            position past the end of the list), ``ambiguous`` (visible positions without a
            list, for an answer of several lists).
    """
    if list_name is None:
        names = [name for name, ids in trace.lists.items() if ids]
        if visible is not None and len(names) > 1:
            raise InvalidFeedback(
                "ambiguous",
                f"visible positions need the list they were seen in (one of {', '.join(names)})",
            )
    else:
        _served(trace, list_name)
        names = [list_name]
    rows = []
    for name in names:
        shown = trace.lists[name]
        seen = None if visible is None else tuple(sorted(set(visible)))
        if seen and (seen[0] < 1 or seen[-1] > len(shown)):
            raise InvalidFeedback(
                "position",
                f"visible positions must be 1 to {len(shown)} in list {name!r}, got {list(seen)}",
            )
        key = f"imp:{trace.nonce}:{name}"
        rows.append(_row(trace, "impression", key, name, at, shown=shown, visible=seen))
    return rows


def click_from(
    trace: Trace, *, list_name: str | None, position: int, article_id: str, at: datetime
) -> Feedback:
    """The click on ``article_id`` at the 1-based ``position`` of a list of the answer
    ``trace`` (the list that holds it there, when ``list_name`` is None).

    Raises:
        InvalidFeedback: ``list`` (no such list), ``position`` (past the end of the list),
            ``article`` (another article is at that position), ``ambiguous`` (two lists hold
            the article at that position: name the list).
    """
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise InvalidFeedback("position", f"position must be an integer from 1, got {position!r}")
    if list_name is None:
        names = [
            name
            for name, ids in trace.lists.items()
            if position <= len(ids) and ids[position - 1] == article_id
        ]
        if len(names) > 1:
            raise InvalidFeedback(
                "ambiguous",
                f"{article_id!r} is at position {position} of {' and '.join(names)}: name the list",
            )
        if not names:
            if all(position > len(ids) for ids in trace.lists.values()):
                raise InvalidFeedback(
                    "position", f"position {position} is past the end of every list served"
                )
            raise InvalidFeedback(
                "article", f"no list served has {article_id!r} at position {position}"
            )
        list_name = names[0]
    shown = _served(trace, list_name)
    if position > len(shown):
        raise InvalidFeedback(
            "position",
            f"position {position} is past the end of list {list_name!r} ({len(shown)} items)",
        )
    if shown[position - 1] != article_id:
        raise InvalidFeedback(
            "article",
            f"position {position} of list {list_name!r} held {shown[position - 1]!r}, "
            f"not {article_id!r}",
        )
    key = f"click:{trace.nonce}:{list_name}:{position}"
    return _row(trace, "click", key, list_name, at, position=position, article_id=article_id)


def feedback_from_mapping(
    raw: Mapping[str, Any], ids: RecommendationIds, *, at: datetime
) -> list[Feedback]:
    """Check one feedback event (a JSON object, a file's row) against its recommendation id.

    ``raw`` holds ``kind`` (``impression`` or ``click``) and ``recommendation_id``; a click
    also ``position`` and ``article_id``; either may name its ``list``, an impression the
    ``visible`` positions. ``at`` is when it happened (tz-aware).

    Raises:
        InvalidFeedback: ``malformed`` (a field of the wrong type, or an id that is not one),
            ``forged``, ``expired``, or a reason of :func:`impressions_from` or
            :func:`click_from`.
    """
    kind = raw.get("kind")
    if kind not in FEEDBACK_KINDS:
        raise InvalidFeedback(
            "malformed", f"kind: expected one of {', '.join(FEEDBACK_KINDS)}, got {kind!r}"
        )
    token = raw.get("recommendation_id")
    if not isinstance(token, str) or not token:
        raise InvalidFeedback("malformed", "recommendation_id: missing or not text")
    list_name = raw.get("list")
    if list_name == "":
        list_name = None
    if list_name is not None and not isinstance(list_name, str):
        raise InvalidFeedback("malformed", f"list: expected text, got {list_name!r}")
    try:
        trace = ids.check(token)
    except InvalidRecommendation as exc:
        raise InvalidFeedback(exc.reason, str(exc)) from exc
    if kind == "impression":
        return impressions_from(
            trace, list_name=list_name, visible=_positions(raw.get("visible")), at=at
        )
    position = _position(raw.get("position"))
    article_id = raw.get("article_id")
    if isinstance(article_id, int) and not isinstance(article_id, bool):
        article_id = str(article_id)
    if not isinstance(article_id, str) or not article_id.strip():
        raise InvalidFeedback("article", "article_id: a click needs the article clicked")
    return [
        click_from(
            trace, list_name=list_name, position=position, article_id=article_id.strip(), at=at
        )
    ]


def click_event(click: Feedback, *, user: str | None = None) -> Event:
    """The ordinary click event of a checked click, so that it feeds popularity and co-reads
    like any other: by the answer's reader hash (``user`` when the answer had none), keyed
    like the click so that it too is stored once."""
    if click.kind != "click" or click.article_id is None:
        raise ValueError(f"feedback {click.key!r} is not a click")
    return Event(
        click.article_id,
        "click",
        click.at,
        click.reader if click.reader is not None else user,
        click.key,
    )


def _served(trace: Trace, list_name: str) -> tuple[str, ...]:
    shown = trace.lists.get(list_name)
    if shown is None:
        served = ", ".join(trace.lists) or "none"
        raise InvalidFeedback(
            "list", f"list {list_name!r} was not served in this answer (served: {served})"
        )
    return shown


def _row(
    trace: Trace,
    kind: Literal["impression", "click"],
    key: str,
    list_name: str,
    at: datetime,
    *,
    shown: tuple[str, ...] = (),
    visible: tuple[int, ...] | None = None,
    position: int | None = None,
    article_id: str | None = None,
) -> Feedback:
    return Feedback(
        kind=kind,
        key=key,
        at=at,
        recommendation=trace.nonce,
        experiment=trace.experiment,
        variant=trace.variant,
        list_name=list_name,
        source=trace.source,
        reader=trace.reader,
        index_version=trace.index_version,
        shown=shown,
        # A click keeps the teams too, so that it alone says which team it credits.
        teams=tuple(trace.teams.get(list_name, ())),
        visible=visible,
        position=position,
        article_id=article_id,
        issued_at=trace.issued_at,
    )


def _position(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value is None:
        raise InvalidFeedback("position", "position: a click needs its position (from 1)")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFeedback("malformed", f"position: expected an integer, got {value!r}")
    return value


def _positions(value: object) -> list[int] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # A CSV cell: "1 2 3" or "1,2,3".
        parts = value.replace(",", " ").split()
        if not all(part.isdigit() for part in parts):
            raise InvalidFeedback("malformed", f"visible: expected positions, got {value!r}")
        return [int(part) for part in parts]
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise InvalidFeedback("malformed", f"visible: expected a list of positions, got {value!r}")
    return list(value)
