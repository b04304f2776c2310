"""``POST /events``: views and clicks from the site, in batches, feeding popularity."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter

from recommender.ingestion.events import event_from_mapping
from service.deps import EngineDep, WriteAccess
from service.errors import WRITE_RESPONSES, responses
from service.schemas import EventsIn, EventsOut

__all__ = ["router"]

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=202,
    response_model=EventsOut,
    dependencies=[WriteAccess],
    responses=responses(WRITE_RESPONSES),
)
def post_events(batch: EventsIn, engine: EngineDep) -> EventsOut:
    """Record up to 1,000 views and clicks; popularity takes them in within seconds
    (``NEWSREC_POPULARITY_REFRESH_SECONDS``), and cached lists are renewed then.

    An event without ``at`` happened when it was received. An event whose ``key`` was stored
    before is skipped, so a client may resend a batch it is unsure about. Events for articles
    not (yet) in the catalogue are kept and count once the article arrives. Needs the write key.
    """
    now = datetime.now(UTC)
    # Events without a time all get the same one, so a reader's two views of one article in
    # one batch would look like one event read twice; without a key of their own they are
    # told apart by their place in this batch (such events can never be recognised when a
    # batch is resent anyway: their time is when each copy arrived).
    batch_id = secrets.token_hex(8)
    events = [
        event_from_mapping(
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
        for position, event in enumerate(batch.events)
    ]
    stored = engine.record_events(events)
    return EventsOut(received=len(events), stored=stored)
