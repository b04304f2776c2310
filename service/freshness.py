"""Read-your-write across workers: writes name the catalogue generation they produced, and a
read may ask for it.

The catalogue generation is the sequence number of the last catalogue change (an upsert or an
unpublish) that a worker's lists include. A write answers with the generation its own worker
reached once the change was applied (``X-Newsrec-Generation`` and ``generation``). Other
workers follow the catalogue's change log on their own (``service.app``'s follower, a few times
a second); a read with ``min_generation=`` above what its worker has applied makes the worker
apply the changes at once, and it waits at most ``Settings.min_generation_wait_seconds`` for
that (another refresh or an index swap may hold the engine), then answers 503 with
``Retry-After``. A generation the catalogue has not produced yet is a mistake of the caller
(422): no write can have answered with it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import anyio
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError

from recommender.serving.engine import Engine
from service.responses import json_response

__all__ = [
    "GENERATION_FIELD",
    "GENERATION_HEADER",
    "MIN_GENERATION",
    "MIN_GENERATION_PARAMETER",
    "CatchUp",
    "min_generation_of",
    "write_response",
]

GENERATION_HEADER = "X-Newsrec-Generation"
GENERATION_FIELD = "generation"
MIN_GENERATION = "min_generation"
_MAX_GENERATION = (1 << 63) - 1  # SQLite's largest rowid


def write_response(
    payload: dict[str, Any], engine: Engine, *, index_version: str, status_code: int = 200
) -> Response:
    """A write's answer: ``payload`` with the catalogue generation that holds the write, in
    the body (``generation``) and the ``X-Newsrec-Generation`` header, for reads to wait on
    with ``min_generation``. Called after the write, whose refresh applied its change."""
    generation = engine.state.seq
    response = json_response(
        {**payload, GENERATION_FIELD: generation},
        index_version=index_version,
        status_code=status_code,
    )
    response.headers[GENERATION_HEADER] = str(generation)
    return response


_POLL_SECONDS = 0.01

_log = logging.getLogger("newsrec.freshness")

#: The ``min_generation`` query parameter as an OpenAPI parameter object, for the
#: ``openapi_extra`` of read routes that read it with :func:`min_generation_of`.
MIN_GENERATION_PARAMETER: dict[str, Any] = {
    "name": MIN_GENERATION,
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0, "maximum": _MAX_GENERATION},
    "description": "Answer only once this worker's lists include the catalogue generation a "
    f"write answered with ({GENERATION_HEADER}, or its `{GENERATION_FIELD}` field): waits up "
    "to NEWSREC_MIN_GENERATION_WAIT_SECONDS, then answers 503 with Retry-After.",
}


def min_generation_of(request: Request) -> int | None:
    """The request's ``min_generation`` query parameter; 422 when it is not a generation."""
    raw = request.query_params.get(MIN_GENERATION)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= _MAX_GENERATION:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", MIN_GENERATION),
                    "msg": "min_generation must be a whole number from 0 (a generation a "
                    f"write answered with, in {GENERATION_HEADER})",
                    "type": "value_error",
                }
            ]
        )
    return value


class CatchUp:
    """Brings one worker's engine up to a catalogue generation, waiting a bounded time.

    One catch-up runs at a time: readers that ask together wait for the same refresh rather
    than each replaying the change log.
    """

    def __init__(self, engine: Engine, *, wait_seconds: float, retry_after_seconds: int) -> None:
        """Catch ``engine`` up, waiting at most ``wait_seconds`` per read."""
        self._engine = engine
        self._wait = wait_seconds
        self._retry_after = retry_after_seconds
        self._lock = threading.Lock()

    def reached(self, generation: int) -> bool:
        """Whether the engine's lists include catalogue generation ``generation``."""
        return self._engine.state.seq >= generation

    async def settle(self, request: Request) -> None:
        """Return once the engine includes the request's ``min_generation`` (at once when it
        has none, or it is reached); the waiting runs on a thread, off the event loop.

        Raises:
            RequestValidationError: ``min_generation`` is not a generation the catalogue has.
            HTTPException: 503 with ``Retry-After``, the generation was not reached in time.
        """
        generation = min_generation_of(request)
        if generation is not None and not self.reached(generation):
            await anyio.to_thread.run_sync(self.wait_for, generation)

    def settle_now(self, request: Request) -> None:
        """:meth:`settle` for routes that already run on a thread."""
        generation = min_generation_of(request)
        if generation is not None and not self.reached(generation):
            self.wait_for(generation)

    def wait_for(self, generation: int) -> None:
        """Apply the catalogue's changes until the engine includes ``generation``.

        Raises:
            RequestValidationError: the catalogue has not produced ``generation``.
            HTTPException: 503 with ``Retry-After``, not reached within the wait.
        """
        deadline = time.monotonic() + self._wait
        while not self.reached(generation):
            last = self._engine.catalogue.last_seq()
            if last < generation:
                raise RequestValidationError(
                    [
                        {
                            "loc": ("query", MIN_GENERATION),
                            "msg": f"generation {generation} is not in the catalogue: its "
                            f"last change is {last}",
                            "type": "value_error",
                        }
                    ]
                )
            # Tried once even with no time left: applying the changes is the quick part.
            if self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
                try:
                    if not self.reached(generation):
                        self._engine.refresh()
                except Exception:  # the follower logs it too; this read is told to retry
                    _log.exception("could not catch up to generation %d", generation)
                finally:
                    self._lock.release()
            if self.reached(generation):
                return
            if time.monotonic() >= deadline:
                raise HTTPException(
                    503,
                    f"this worker has not reached generation {generation} within "
                    f"{self._wait:g} s (it is at {self._engine.state.seq}); retry",
                    headers={"Retry-After": str(self._retry_after)},
                )
            time.sleep(_POLL_SECONDS)
