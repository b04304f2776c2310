"""Routes of the overrides resource: editors' pins and blocks over HTTP.

The same rules and the same record as ``newsrec pin`` / ``block`` / ``overrides``
(:mod:`recommender.operations.editorial`): who (``by``), when, why and until when, and a
removal that is stamped rather than deleted. Every route needs the write key; a change is in
this worker's lists when the answer is sent, and in every worker's within a fraction of a
second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from recommender.operations.editorial import (
    Made,
    block_article,
    listed_overrides,
    override_view,
    pin_article,
    until_of,
)
from recommender.serving.engine import Engine
from recommender.serving.requests import MAX_K
from service.deps import EngineDep, WriteAccess
from service.errors import WRITE_RESPONSES, responses
from service.responses import json_response
from service.schemas import OverrideOut, OverridesOut, ProblemOut

__all__ = ["BlockIn", "PinIn", "router"]

router = APIRouter(prefix="/overrides", tags=["overrides"], dependencies=[WriteAccess])

_Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_By = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
_Texts = list[str]  # spelled out of the models, where ``list`` names a field
_UNTIL = (
    "Stop applying then: a date (2026-10-12, through that day, UTC), a time "
    "(2026-10-12T18:00Z) or a duration from now (36h, 7d, 2w). Default: until removed."
)


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        None, description=_UNTIL, examples=["7d"]
    )
    reason: str = Field("", max_length=1_000, description="Why, for the record.")
    by: _By = Field(description="Who decides: the editor's name, kept in the record.")


class PinIn(_Decision):
    """A pin: ``target`` at ``position`` of ``source``'s Related or More like this list."""

    source: _Id = Field(description="The article whose list gets the pin.")
    target: _Id = Field(description="The article to put into that list.")
    position: int = Field(1, ge=1, le=MAX_K, description="Place in the list, from 1.")
    list: Literal["related", "more_like_this"] = Field(
        "related", description="The list to pin into."
    )


class BlockIn(_Decision):
    """A block: ``target`` kept out of ``source``'s lists, or out of every list."""

    target: _Id = Field(description="The article to keep out of lists.")
    source: _Id | None = Field(
        None, description="Only out of this article's lists (default: every list)."
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ProblemOut, "description": "No override in force has this id."},
    422: {"description": "An unknown article or list, a bad or past `until`, a self-pin."},
}


def _answer(engine: Engine, made: Made, status_code: int = 200) -> Response:
    engine.refresh()  # this worker's lists hold the change before the answer is sent
    view = {**override_view(made.override, datetime.now(UTC)), "warnings": list(made.warnings)}
    return json_response(view, index_version=engine.index_version, status_code=status_code)


@router.get("", response_model=OverridesOut, responses=responses(WRITE_RESPONSES))
def get_overrides(
    engine: EngineDep,
    all_: Annotated[bool, Query(alias="all", description="Also those removed or expired.")] = False,
    source: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only those that apply to this article's lists (blocks of every list "
            "included).",
        ),
    ] = None,
) -> Response:
    """The pins and blocks in force (with ``all=true``, every one ever made), oldest first.
    Needs the write key."""
    now = datetime.now(UTC)
    store = engine.overrides
    rows = listed_overrides(store, now, all_)
    if source is not None:
        rows = [o for o in rows if o.source_id in (None, source)]
    return json_response(
        {"overrides": [override_view(o, now) for o in rows]}, index_version=engine.index_version
    )


@router.post(
    "/pins",
    status_code=201,
    response_model=OverrideOut,
    responses=responses(_ERRORS, WRITE_RESPONSES),
)
def post_pin(pin: PinIn, engine: EngineDep) -> Response:
    """Put ``target`` into ``source``'s Related list (or More like this) at ``position``,
    whatever its score. A block still wins: the answer warns when one keeps it out. Needs the
    write key."""
    # An EditorialError (unknown article or list, bad `until`, self-pin) is a 422, and
    # UnknownOverride a 404, for every route here: service/errors.py.
    made = pin_article(
        engine.overrides,
        engine.catalogue,
        pin.source,
        pin.target,
        position=pin.position,
        list_name=pin.list,
        until=until_of(pin.until),
        reason=pin.reason,
        by=pin.by,
    )
    return _answer(engine, made, 201)


@router.post(
    "/blocks",
    status_code=201,
    response_model=OverrideOut,
    responses=responses(_ERRORS, WRITE_RESPONSES),
)
def post_block(block: BlockIn, engine: EngineDep) -> Response:
    """Keep ``target`` out of ``source``'s lists, or out of every list when no source is
    given. Needs the write key."""
    made = block_article(
        engine.overrides,
        engine.catalogue,
        block.target,
        source=block.source,
        until=until_of(block.until),
        reason=block.reason,
        by=block.by,
    )
    return _answer(engine, made, 201)


@router.delete(
    "/{override_id}",
    response_model=OverrideOut,
    responses=responses(_ERRORS, WRITE_RESPONSES),
)
def delete_override(
    override_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The override's id.")],
    by: Annotated[_By, Query(description="Who removes it, kept in the record.")],
    engine: EngineDep,
) -> Response:
    """Stop an override from applying; it stays on record as removed, by whom and when.
    Needs the write key."""
    return _answer(engine, Made(engine.overrides.remove(override_id, by=by)))
