"""Overload: a burst far beyond capacity is shed with 503 and Retry-After, never falls over.

A real server admitting 4 requests at a time gets two bursts of 600 requests from 64 connections
on 127.0.0.1. Every answer is a 200 or a 503 with ``Retry-After``; liveness keeps answering; no
connection fails; afterwards latency is back to what it was and memory has stopped growing.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.reliability.support import PROBE_IDS, sample_rows

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow

MAX_IN_FLIGHT = 4
CONNECTIONS = 64
BURST = 600


@dataclass
class Burst:
    """How one burst was answered."""

    statuses: Counter[int] = field(default_factory=Counter)
    without_retry_after: int = 0
    transport_errors: list[str] = field(default_factory=list)
    livez: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def busy_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("overload") / "home"
    shutil.copytree(sample_home_template, home)
    # A small response cache fills during the first burst, so memory can be seen to level off.
    server = LiveServer(
        home, {"NEWSREC_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT), "NEWSREC_CACHE_ENTRIES": "64"}
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _burst_urls(round_: int) -> list[str]:
    # Distinct requests (ids x list sizes), so that the burst is not answered from the cache.
    ids = [str(row["id"]) for row in sample_rows()]
    return [
        f"/articles/{ids[i % len(ids)]}/related?k={1 + (i // len(ids) + round_ * 19) % 50}"
        for i in range(BURST)
    ]


async def _burst(base_url: str, urls: list[str]) -> Burst:
    result = Burst()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    limits = httpx.Limits(max_connections=CONNECTIONS + 1, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:

        async def worker() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                try:
                    response = await http.get(url)
                except httpx.HTTPError as exc:
                    result.transport_errors.append(repr(exc))
                    continue
                result.statuses[response.status_code] += 1
                if response.status_code == 503 and "retry-after" not in response.headers:
                    result.without_retry_after += 1

        async def probe_liveness() -> None:
            while not queue.empty():
                result.livez[(await http.get("/livez")).status_code] += 1
                await asyncio.sleep(0.05)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)), probe_liveness())
        result.seconds = time.perf_counter() - started
    return result


def _median_latency(base_url: str, rounds: int = 3) -> float:
    urls = [f"/articles/{article_id}/related?k=5" for article_id in PROBE_IDS]
    samples = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(rounds):
            for url in urls:
                started = time.perf_counter()
                assert http.get(url).status_code == 200
                samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def test_a_burst_beyond_capacity_is_shed_and_the_service_recovers(
    busy_server: LiveServer, ledger: Counter[str]
) -> None:
    url = busy_server.url
    _median_latency(url)  # warm the cache of the latency probes
    before = _median_latency(url)
    rss = [_rss_bytes(busy_server.process.pid)]
    bursts = []
    for round_ in range(2):
        burst = asyncio.run(_burst(url, _burst_urls(round_)))
        bursts.append(burst)
        rss.append(_rss_bytes(busy_server.process.pid))
        ledger["load: requests in bursts"] += sum(burst.statuses.values())
        ledger["load: requests shed with 503"] += burst.statuses[503]
        ledger["lost: failed connections under load"] += len(burst.transport_errors)
        ledger["lost: 5xx other than 503 under load"] += sum(
            n for status, n in burst.statuses.items() if status >= 500 and status != 503
        )
    # Back to normal: the same warm requests as before, within noise of a shared machine, at
    # most a few seconds after the burst (the requests admitted during it finish first).
    bound = max(3 * before, before + 0.05)
    deadline = time.monotonic() + 5
    after = _median_latency(url)
    while after > bound and time.monotonic() < deadline:
        time.sleep(0.5)
        after = _median_latency(url)
    assert after <= bound, (before, after)
    for burst in bursts:
        assert burst.transport_errors == []
        assert set(burst.statuses) <= {200, 503}, burst.statuses
        assert burst.statuses[503] > 0 and burst.statuses[200] > 0, burst.statuses
        assert burst.without_retry_after == 0
        assert set(burst.livez) == {200}, burst.livez
    # Bounded: the second burst (as large as the first) adds little beyond the first.
    assert rss[2] - rss[1] < 32 << 20, rss
    assert rss[2] - rss[0] < 128 << 20, rss
    print(
        f"\nburst of {BURST} x2 from {CONNECTIONS} connections, limit {MAX_IN_FLIGHT}: "
        f"{[dict(b.statuses) for b in bursts]} in {[round(b.seconds, 1) for b in bursts]} s; "
        f"median latency {before * 1000:.1f} ms before, {after * 1000:.1f} ms after; "
        f"RSS {[r >> 20 for r in rss]} MiB"
    )


def test_the_limiter_sheds_exactly_what_is_beyond_its_limit_and_frees_slots_after() -> None:
    from service.overload import ConcurrencyLimit

    async def scenario() -> tuple[list[int], str | None, int, int]:
        gate = asyncio.Event()

        async def app(scope: dict[str, object], receive: object, send: object) -> None:
            if scope["path"] != "/livez":
                await gate.wait()  # a slow request, held until the test lets it finish
            await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

        limiter = ConcurrencyLimit(app, limit=2, retry_after_seconds=7)  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=limiter)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            held = [asyncio.create_task(http.get("/slow")) for _ in range(2)]
            await asyncio.sleep(0.05)
            refused = await http.get("/slow")
            alive = await http.get("/livez")
            gate.set()
            statuses = [(await task).status_code for task in held]
            again = await http.get("/slow")
        return (
            [*statuses, refused.status_code, alive.status_code, again.status_code],
            refused.headers.get("retry-after"),
            limiter.in_flight,
            limiter.shed,
        )

    statuses, retry_after, in_flight, shed = asyncio.run(scenario())
    assert statuses == [200, 200, 503, 200, 200]
    assert (retry_after, in_flight, shed) == ("7", 0, 1)
