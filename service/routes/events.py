"""``POST /events``: views and clicks from the site, in batches, feeding popularity."""

from __future__ import annotations

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
    events = [
        event_from_mapping(
            {
                "article_id": event.article_id,
                "kind": event.kind,
                "at": event.at or now,
                "user": event.user,
                "id": event.key,
            }
        )
        for event in batch.events
    ]
    stored = engine.record_events(events)
    return EventsOut(received=len(events), stored=stored)
