"""``POST /events``: views and clicks from the site, in batches, feeding popularity; and the
impressions and clicks of served lists, checked against their recommendation id."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from index.events import Event
from index.feedback import Feedback, FeedbackStore
from recommender.experiments.feedback import InvalidFeedback, click_event, feedback_from_mapping
from recommender.experiments.tokens import RecommendationIds
from recommender.ingestion.events import event_from_mapping
from service.deps import EngineDep, MetricsDep, WriteAccess
from service.errors import WRITE_RESPONSES, responses
from service.schemas import EventIn, EventsIn, EventsOut, RejectedEventOut

__all__ = ["router"]

router = APIRouter(tags=["events"])

_open_lock = threading.Lock()


@router.post(
    "/events",
    status_code=202,
    response_model=EventsOut,
    response_model_exclude_unset=True,
    dependencies=[WriteAccess],
    responses=responses(WRITE_RESPONSES),
)
def post_events(
    batch: EventsIn, engine: EngineDep, metrics: MetricsDep, request: Request
) -> EventsOut:
    """Record up to 1,000 views, clicks and impressions; popularity takes them in within
    seconds (``NEWSREC_POPULARITY_REFRESH_SECONDS``), and cached lists are renewed then.

    An event without ``at`` happened when it was received. An event whose ``key`` was stored
    before is skipped, so a client may resend a batch it is unsure about. Events for articles
    not (yet) in the catalogue are kept and count once the article arrives. Needs the write key.

    An ``impression`` (a served list was shown) or a ``click`` with the ``recommendation_id``
    of the answer it came from (and the item's ``position``) is checked against that answer:
    it counts for the answer's variant only if the id is genuine and unexpired and the position
    holds the clicked article. Those that fail are not stored and are listed in ``rejected``
    with their reason; the rest of the batch is stored. Such a click is also stored as an
    ordinary click, by the reader the answer was served to.
    """
    now = datetime.now(UTC)
    # Events without a time all get the same one, so a reader's two views of one article in
    # one batch would look like one event read twice; without a key of their own they are
    # told apart by their place in this batch (such events can never be recognised when a
    # batch is resent anyway: their time is when each copy arrived).
    batch_id = secrets.token_hex(8)
    events: list[Event] = []
    feedback: list[Feedback] = []
    rejected: list[RejectedEventOut] = []
    for position, event in enumerate(batch.events):
        if event.recommendation_id is None:
            events.append(_event(event, now, batch_id, position))
            continue
        try:
            rows = feedback_from_mapping(
                event.model_dump(), _recommendation_ids(request), at=_time(event, now)
            )
        except InvalidFeedback as exc:
            rejected.append(RejectedEventOut(index=position, reason=exc.reason, detail=str(exc)))
            metrics.count_rejected(exc.reason)
            continue
        feedback.extend(rows)
        events.extend(click_event(row, user=event.user) for row in rows if row.kind == "click")
    stored = engine.record_events(events)
    if len(feedback) + len(rejected) == 0:
        return EventsOut(received=len(batch.events), stored=stored)
    new = _feedback_store(request).add_new(feedback)
    metrics.count_feedback(new)
    return EventsOut(
        received=len(batch.events), stored=stored, feedback_stored=len(new), rejected=rejected
    )


def _event(event: EventIn, now: datetime, batch_id: str, position: int) -> Event:
    return event_from_mapping(
        {
            "article_id": event.article_id,
            "kind": event.kind,
            "at": event.at or now,
            "user": event.user,
            "id": event.key
            if event.key is not None or event.at is not None or event.user is None
            else f"received:{batch_id}:{position}",
        }
    )


def _time(event: EventIn, now: datetime) -> datetime:
    if event.at is None:
        return now
    return event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)


def _recommendation_ids(request: Request) -> RecommendationIds:
    # Set at start-up (service/app.py), from the same settings that sign the answers.
    ids: RecommendationIds = request.app.state.recommendation_ids
    return ids


def _feedback_store(request: Request) -> FeedbackStore:
    # Opened on the first feedback a worker receives: a service whose pages send none never
    # creates the table.
    store: FeedbackStore | None = getattr(request.app.state, "feedback", None)
    if store is None:
        with _open_lock:
            store = getattr(request.app.state, "feedback", None)
            if store is None:
                store = request.app.state.feedback = FeedbackStore(
                    request.app.state.settings.catalogue
                )
    return store
