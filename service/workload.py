"""Where list work runs: off the event loop, on bounded thread pools, admitted by its cost.

A list that is not cached is computed on a thread, so the event loop stays free to answer
``/livez``, cached lists and shed 503s while it runs. Requests differ in cost by two orders of
magnitude (a plain list of 5 against 50 explained items per list), and a client choosing the
options (a random weight per request defeats the cache) chooses the cost. Counting requests
alone would let 32 expensive ones hold every thread; so each request is given a cost
(:func:`list_cost`) and runs in one of two lanes:

- *light* requests (plain lists of ordinary length) on their own threads, so that they never
  queue behind expensive ones;
- *heavy* requests on one thread, admitted while the cost of the heavy work queued and running
  stays within a budget. The budget bounds how long an admitted heavy request waits; past it a
  request is refused at once with 503 and ``Retry-After`` (:class:`Busy`).

A lane always admits a request when it is idle, so any single request the API accepts can run.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from recommender.serving.requests import ListRequest
from service.overload import send_busy

__all__ = [
    "HEAVY_BUDGET",
    "LIGHT_MAX_COST",
    "Busy",
    "EarlyRefusal",
    "Lane",
    "ListWork",
    "list_cost",
    "query_cost",
]

T = TypeVar("T")

#: Requests costing at most this run in the light lane. A plain list of up to 20 items per
#: list costs 3; an explained list of 5 costs 6.
LIGHT_MAX_COST = 6
#: Cost units of heavy work queued and running at once, per worker: about three of the most
#: expensive requests (50 explained items in each list).
HEAVY_BUDGET = 120
#: Cost units of light work queued and running at once, per worker.
LIGHT_BUDGET = 256
#: What embedding a draft adds to a request's cost.
TEXT_COST = 12
_EXPLAIN_FACTOR = 3


def list_cost(request: ListRequest, *, text: bool = False) -> int:
    """The cost units of computing ``request``'s lists: 1, plus 1 per 10 items asked for over
    all lists, times 3 with explanations (which read each item's text), plus
    :data:`TEXT_COST` when a draft must be embedded first."""
    items = request.k_more + request.k_related + int(getattr(request, "k_popular", 0))
    cost = 1 + items // 10
    if request.explain:
        cost *= _EXPLAIN_FACTOR
    return cost + (TEXT_COST if text else 0)


def query_cost(query_string: bytes) -> int:
    """The cost :func:`list_cost` gives a list request with this query string, read without
    validating it (for :class:`EarlyRefusal`): each of the three lists counted at ``k`` unless
    its own ``k_...`` is given; values that are not numbers count as the default."""
    query = parse_qs(query_string.decode("latin-1"))

    def number(name: str, default: int) -> int:
        try:
            return max(0, int(query[name][-1]))
        except (KeyError, ValueError):
            return default

    k = number("k", 5)
    items = sum(number(name, k) for name in ("k_more", "k_related", "k_popular"))
    explain = query.get("explain", ["false"])[-1].lower() in ("1", "true", "yes", "on")
    return (1 + items // 10) * (_EXPLAIN_FACTOR if explain else 1)


class Busy(Exception):
    """A request refused because its lane's cost budget is spent; answered with 503."""

    def __init__(self, lane: str, cost: int, budget: int, retry_after_seconds: int) -> None:
        """Refuse a request of ``cost`` in ``lane`` whose ``budget`` is spent."""
        super().__init__(
            f"server busy: the {lane} list work in progress uses its budget of {budget} cost "
            f"units and this request costs {cost}; retry after {retry_after_seconds} s, or ask "
            "for fewer items or no explanations"
        )
        self.retry_after_seconds = retry_after_seconds


class Lane:
    """Threads that run list work, and the cost budget of the work admitted to them.

    The count of cost units in use lives on the event loop, where requests are admitted, so
    it needs no lock.
    """

    def __init__(self, name: str, *, threads: int, budget: int) -> None:
        """A lane of ``threads`` threads admitting ``budget`` cost units at once."""
        if threads < 1 or budget < 1:
            raise ValueError(f"a lane needs threads and budget >= 1, got {threads}, {budget}")
        self.name = name
        self.budget = budget
        self.in_use = 0
        self.refused = 0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=f"newsrec-{name}")

    def admits(self, cost: int) -> bool:
        """Whether work of ``cost`` fits now: always in an idle lane, else within the budget."""
        return self.in_use == 0 or self.in_use + cost <= self.budget

    async def run(self, compute: Callable[[], T], cost: int, retry_after_seconds: int) -> T:
        """``compute()`` on this lane's threads; :class:`Busy` at once if it does not fit."""
        if not self.admits(cost):
            self.refused += 1
            raise Busy(self.name, cost, self.budget, retry_after_seconds)
        self.in_use += cost
        try:
            context = contextvars.copy_context()  # the request id of log lines
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, context.run, compute)
        finally:
            self.in_use -= cost

    def close(self) -> None:
        """Stop the threads once the work queued has finished."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class ListWork:
    """The two lanes of a worker's list work (see the module's description)."""

    def __init__(
        self,
        *,
        retry_after_seconds: int = 1,
        light_threads: int = 2,
        heavy_threads: int = 1,
        light_budget: int = LIGHT_BUDGET,
        heavy_budget: int = HEAVY_BUDGET,
    ) -> None:
        """Lanes of the given threads and budgets; refusals say ``retry_after_seconds``."""
        self.retry_after_seconds = retry_after_seconds
        self.light = Lane("light", threads=light_threads, budget=light_budget)
        self.heavy = Lane("heavy", threads=heavy_threads, budget=heavy_budget)

    async def run(self, compute: Callable[[], T], cost: int) -> T:
        """``compute()`` in the lane its ``cost`` belongs to; :class:`Busy` if it is full."""
        lane = self.light if cost <= LIGHT_MAX_COST else self.heavy
        return await lane.run(compute, cost, self.retry_after_seconds)

    def close(self) -> None:
        """Stop both lanes' threads."""
        self.light.close()
        self.heavy.close()


class EarlyRefusal:
    """ASGI middleware refusing an expensive ``GET /articles/{id}/related`` with 503 before the
    framework reads it, while the heavy lane is full.

    The lanes decide admission; this only makes a refusal cheap. Under a flood of expensive
    requests, each refused one otherwise costs the event loop routing, validation and an
    exception handler, and that time is taken from the requests that are admitted.
    """

    def __init__(self, app: ASGIApp, work: Callable[[], ListWork | None]) -> None:
        """Wrap ``app``; ``work()`` is the worker's list work once it has started."""
        self.app = app
        self.work = work

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        work = self.work()
        if (
            work is not None
            and work.heavy.in_use
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and str(scope["path"]).endswith("/related")
        ):
            cost = query_cost(scope.get("query_string", b""))
            if cost > LIGHT_MAX_COST and not work.heavy.admits(cost):
                work.heavy.refused += 1
                busy = Busy("heavy", cost, work.heavy.budget, work.retry_after_seconds)
                await _refuse(send, busy)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, busy: Busy) -> None:
    await send_busy(send, str(busy), busy.retry_after_seconds)
