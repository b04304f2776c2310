"""Read-your-write across real worker processes, and a first write as fast as the rest.

A write answers with the catalogue generation that holds it; a read naming that generation
(``min_generation=``) must see the write on whichever worker it lands, although workers follow
the catalogue on their own. Each read here goes over a kept-alive connection to another worker
than the write's, the case that failed before (a GET after a PUT answered 404, a GET after a
DELETE 200). Printed figures (run with ``-s``) are those the README quotes.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from service.freshness import GENERATION_HEADER
from tests.conftest import LiveServer
from tests.service.servers import WRITE_KEY, copy_home, ferry_article, start

pytestmark = pytest.mark.slow

KEY = {"X-API-Key": WRITE_KEY}
TRIES = 1_000  # per worker count: half reads after a PUT, half after a DELETE
LIST = {"k": "1", "lists": "more_like_this"}  # the article's own list: the cheapest that needs it


def _ready_workers(server: LiveServer, workers: int, timeout: float = 120.0) -> None:
    # Each worker loads the model at start; new connections land on some worker each.
    deadline = time.monotonic() + timeout
    ready: set[int] = set()
    while len(ready) < workers:
        assert time.monotonic() < deadline, f"only {len(ready)} of {workers} workers ready"
        answer = httpx.get(server.url + "/readyz", timeout=30)
        if answer.status_code == 200:
            ready.add(answer.json()["pid"])
        else:
            time.sleep(0.1)


def _served(template: Path, where: Path, workers: int) -> LiveServer:
    server = start(
        copy_home(template, where), {"NEWSREC_API_KEY": WRITE_KEY}, "--workers", str(workers)
    )
    try:
        _ready_workers(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def two_workers(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``newsrec serve --workers 2`` with a write key, over a private copy of the sample."""
    server = _served(sample_home_template, tmp_path_factory.mktemp("two-workers"), 2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def four_workers(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``newsrec serve --workers 4`` with a write key, over a private copy of the sample."""
    server = _served(sample_home_template, tmp_path_factory.mktemp("four-workers"), 4)
    yield server
    server.stop()


@contextmanager
def _connections(url: str, workers: int) -> Iterator[dict[int, httpx.Client]]:
    """One kept-alive connection to each worker, by process id."""
    with ExitStack() as stack:
        found: dict[int, httpx.Client] = {}
        for _ in range(50 * workers):
            client = stack.enter_context(
                httpx.Client(
                    base_url=url,
                    timeout=30,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                )
            )
            pid = client.get("/readyz").json()["pid"]
            if pid in found:
                client.close()
            else:
                found[pid] = client
            if len(found) == workers:
                break
        assert len(found) == workers, f"connections reached {len(found)} of {workers} workers"
        yield found


def _pid_of(client: httpx.Client) -> int:
    pid: int = client.get("/readyz").json()["pid"]
    return pid


def _generation(answer: httpx.Response) -> int:
    generation = int(answer.headers[GENERATION_HEADER])
    assert answer.json()["generation"] == generation
    return generation


@pytest.mark.parametrize(("servers", "workers"), [("two_workers", 2), ("four_workers", 4)])
def test_a_read_with_min_generation_sees_the_write_on_another_worker(
    servers: str, workers: int, request: pytest.FixtureRequest, ledger: Counter[str]
) -> None:
    server: LiveServer = request.getfixturevalue(servers)
    with _connections(server.url, workers) as by_pid:
        pids = sorted(by_pid)
        wrong: list[str] = []
        waits: list[float] = []
        started = time.monotonic()
        for i in range(TRIES // 2):
            writer = by_pid[pids[i % workers]]
            # Every other worker in turn reads what this one wrote.
            reader = by_pid[pids[(i + 1 + (i // workers) % (workers - 1)) % workers]]
            article_id = f"ryw-{i}"
            put = writer.put(f"/articles/{article_id}", json=ferry_article(i), headers=KEY)
            assert put.status_code == 201, put.text
            asked = time.perf_counter()
            read = reader.get(
                f"/articles/{article_id}/related",
                params={**LIST, "min_generation": _generation(put)},
            )
            waits.append(time.perf_counter() - asked)
            if read.status_code != 200 or read.json()["article"]["id"] != article_id:
                wrong.append(f"after PUT {article_id}: {read.status_code} {read.text[:200]}")
            delete = writer.delete(f"/articles/{article_id}", headers=KEY)
            assert delete.status_code == 200, delete.text
            read = reader.get(
                f"/articles/{article_id}/related",
                params={**LIST, "min_generation": _generation(delete)},
            )
            if read.status_code != 404:
                wrong.append(f"after DELETE {article_id}: {read.status_code}")
        elapsed = time.monotonic() - started
        # The reads went where they were meant to: each connection still on its worker.
        assert {pid: _pid_of(client) for pid, client in by_pid.items()} == {p: p for p in pids}
    ledger["requests: read-your-write writes and reads"] += 2 * TRIES
    ledger["lost: reads that missed the write they named"] += len(wrong)
    print(
        f"\nread-your-write, {workers} workers: {TRIES - len(wrong)}/{TRIES} correct in "
        f"{elapsed:.1f} s; read after PUT with min_generation: median "
        f"{statistics.median(waits) * 1000:.1f} ms, max {max(waits) * 1000:.1f} ms"
    )
    assert not wrong, f"{len(wrong)} of {TRIES} reads missed the write: {wrong[:5]}"


def test_without_min_generation_another_worker_shows_a_write_within_the_follow_period(
    two_workers: LiveServer,
) -> None:
    """The freshness bound the README states: how long until another worker shows a write
    to a read that names no generation."""
    with _connections(two_workers.url, 2) as by_pid:
        writer, reader = (by_pid[pid] for pid in sorted(by_pid))
        lags: list[float] = []
        for i in range(100):
            # Writes at every phase of the other worker's follow period, not just after it.
            time.sleep((i % 10) * 0.02)
            article_id = f"lag-{i}"
            put = writer.put(f"/articles/{article_id}", json=ferry_article(i), headers=KEY)
            assert put.status_code == 201, put.text
            written = time.perf_counter()
            while reader.get(f"/articles/{article_id}/related", params=LIST).status_code != 200:
                assert time.perf_counter() - written < 2.0, f"{article_id} unseen for 2 s"
                time.sleep(0.002)
            lags.append(time.perf_counter() - written)
    ordered = sorted(lags)
    print(
        f"\nfreshness without min_generation, 2 workers, 100 writes: median "
        f"{statistics.median(lags) * 1000:.0f} ms, p95 {ordered[94] * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    assert ordered[-1] < 1.0


def test_ready_only_once_the_model_is_loaded_and_the_first_write_is_as_fast_as_the_rest(
    sample_home: Path,
) -> None:
    # Started by hand: LiveServer.wait_ready would wait for the model itself.
    server = LiveServer(sample_home, {"NEWSREC_API_KEY": WRITE_KEY})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            seen: list[tuple[int, str]] = []
            deadline = time.monotonic() + 120
            while not seen or seen[-1][0] != 200:
                assert time.monotonic() < deadline, seen[-3:]
                try:
                    answer = http.get("/readyz")  # also opens the connection the writes reuse
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                seen.append((answer.status_code, answer.json()["embedding_model"]))
                time.sleep(0.05)
            assert seen[-1] == (200, "loaded")
            # Not ready while it loaded (the model takes seconds; the index loads faster).
            assert (503, "loading") in seen, seen[:3]
            took: list[float] = []
            for i in range(20):
                started = time.perf_counter()
                put = http.put(f"/articles/first-{i}", json=ferry_article(i), headers=KEY)
                took.append(time.perf_counter() - started)
                assert put.status_code == 201, put.text
        median = statistics.median(took[1:])
        print(
            f"\nfirst PUT after start: {took[0] * 1000:.1f} ms; the next 19: median "
            f"{median * 1000:.1f} ms, max {max(took[1:]) * 1000:.1f} ms"
        )
        assert took[0] <= 3 * median, f"first {took[0]:.3f} s, median of the rest {median:.3f} s"
    finally:
        server.stop()


def test_every_read_route_takes_min_generation_and_refuses_one_never_written(
    two_workers: LiveServer,
) -> None:
    with _connections(two_workers.url, 2) as by_pid:
        writer, reader = (by_pid[pid] for pid in sorted(by_pid))
        put = writer.put("/articles/ryw-routes", json=ferry_article(0), headers=KEY)
        generation = _generation(put)
        after = {"min_generation": generation}
        assert reader.get("/articles/ryw-routes", params=after).status_code == 200
        assert reader.get("/articles/ryw-routes/related", params=after).status_code == 200
        drafted = reader.post("/related", params=after, json={"ids": ["ryw-routes"]})
        assert drafted.status_code == 200, drafted.text
        for bad in ("-1", "soon", str(generation + 1_000_000)):
            refused = reader.get("/articles/sample-001/related", params={"min_generation": bad})
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.json()["detail"][0]["loc"] == ["query", "min_generation"]
        never = reader.get("/articles/sample-001", params={"min_generation": generation + 10**6})
        assert "is not in the catalogue" in never.json()["detail"][0]["msg"]
