"""Hostile request heads: huge headers, too many headers and heads that trickle in.

A real server on 127.0.0.1 (head timeout shortened to 2 s) answers a head over its size limit
or with too many headers with 431 and a slow head with 408, and closes the connection;
memory after ten 50 MiB headers is back at its baseline; a thousand connections trickling a
byte at a time are all closed by the timeout while ``/livez`` keeps answering; and a head just
under the limit, sent in the same packet as its body, is still served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recommender.settings import Settings
from tests.conftest import LiveServer

HEAD_TIMEOUT = 2.0
TRICKLING = 1_000
HUGE_HEADER = 50 << 20
MAX_HEADER_BYTES = Settings.model_fields["max_header_bytes"].default
MAX_HEADERS = Settings.model_fields["max_headers"].default


@pytest.fixture(scope="module")
def server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("request-head") / "home"
    shutil.copytree(sample_home_template, home)
    live = LiveServer(home, {"NEWSREC_HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT)})
    try:
        live.wait_ready()
        yield live
    finally:
        live.stop()


def _exchange(port: int, data: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection; the whole answer up to the close, and the time."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may close while we are still sending: then read what it said.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65_536):
                answer += chunk
        except OSError:
            pass
    return answer, time.monotonic() - started


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _detail(answer: bytes) -> str:
    detail: str = json.loads(answer.partition(b"\r\n\r\n")[2])["detail"]
    return detail


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def test_a_head_over_the_size_limit_is_answered_431(server: LiveServer) -> None:
    big = b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n"
    answer, _ = _exchange(server.port, b"GET /livez HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert _status(answer) == 431, answer[:200]
    assert "NEWSREC_MAX_HEADER_BYTES" in _detail(answer)
    assert b"connection: close" in answer.lower()


def test_too_many_headers_are_answered_431(server: LiveServer) -> None:
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
    answer, _ = _exchange(server.port, b"GET /livez HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert _status(answer) == 431, answer[:200]
    assert "NEWSREC_MAX_HEADERS" in _detail(answer)


def test_a_head_that_stops_arriving_is_answered_408(server: LiveServer) -> None:
    answer, seconds = _exchange(server.port, b"GET /livez HTTP/1.1\r\nHost: x\r\n")
    assert _status(answer) == 408, answer[:200]
    assert HEAD_TIMEOUT - 0.2 <= seconds <= HEAD_TIMEOUT + 3.0


def test_a_connection_that_sends_nothing_is_closed(server: LiveServer) -> None:
    answer, seconds = _exchange(server.port, b"")
    assert _status(answer) == 408
    assert seconds <= HEAD_TIMEOUT + 3.0


def test_a_head_just_under_the_limit_with_its_body_in_one_packet_is_served(
    server: LiveServer,
) -> None:
    body = json.dumps({"ids": ["sample-039"], "k": 3}).encode() + b" " * 100_000
    head = (
        b"POST /related HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n" % len(body)
    )
    pad = MAX_HEADER_BYTES - len(head) - len(b"X-Pad: \r\n\r\n") - 1
    data = head + b"X-Pad: " + b"p" * pad + b"\r\n\r\n" + body
    answer, _ = _exchange(server.port, data)
    assert _status(answer) == 200, answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["more_like_this"]


def test_memory_returns_to_its_baseline_after_ten_50_mib_headers(
    server: LiveServer, ledger: Counter[str]
) -> None:
    for _ in range(20):
        assert httpx.get(server.url + "/livez").status_code == 200
    before = _rss_bytes(server.process.pid)
    huge = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * HUGE_HEADER + b"\r\n\r\n"
    answers = [_exchange(server.port, huge)[0] for _ in range(10)]
    after = _rss_bytes(server.process.pid)
    # A client still sending when the server closes may see the reset before the answer.
    assert {_status(a) for a in answers} <= {431, 0}, [a[:100] for a in answers]
    assert httpx.get(server.url + "/livez").status_code == 200
    assert after - before < 16 << 20, (before >> 20, after >> 20)
    ledger["hostile heads (50 MiB)"] += 10
    print(f"\nten 50 MiB headers: RSS {before >> 20} -> {after >> 20} MiB")


async def _trickle(port: int, held: list[float], statuses: Counter[int]) -> None:
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        statuses[-1] += 1
        return
    writer.write(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
    answer = b""
    try:
        for _ in range(int(20 * HEAD_TIMEOUT)):
            read = asyncio.ensure_future(reader.read(65_536))
            done, _ = await asyncio.wait([read], timeout=0.5)
            if done:
                chunk = read.result()
                answer += chunk
                if not chunk:
                    break
            else:
                read.cancel()
                writer.write(b"X")  # one more byte of a header that never ends
    except OSError:
        pass
    held.append(time.monotonic() - started)
    statuses[_status(answer)] += 1
    writer.close()


async def _trickling_flood(port: int, url: str) -> tuple[list[float], Counter[int], list[float]]:
    held: list[float] = []
    statuses: Counter[int] = Counter()
    probes: list[float] = []
    flood = [asyncio.ensure_future(_trickle(port, held, statuses)) for _ in range(TRICKLING)]
    async with httpx.AsyncClient(timeout=10.0) as client:
        while not all(task.done() for task in flood):
            started = time.perf_counter()
            assert (await client.get(url + "/livez")).status_code == 200
            probes.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)
    await asyncio.gather(*flood)
    return held, statuses, probes


@pytest.mark.slow
def test_a_thousand_trickling_connections_are_all_closed_by_the_head_timeout(
    server: LiveServer, ledger: Counter[str]
) -> None:
    held, statuses, probes = asyncio.run(_trickling_flood(server.port, server.url))
    assert statuses == Counter({408: TRICKLING}), statuses
    assert max(held) <= HEAD_TIMEOUT + 4.0, max(held)
    probes.sort()
    assert probes[-1] < 1.0, probes[-1]
    ledger["trickling connections"] += TRICKLING
    print(
        f"\n{TRICKLING} trickling heads: all 408, held at most {max(held):.2f} s "
        f"(timeout {HEAD_TIMEOUT:g} s); /livez meanwhile max {probes[-1] * 1000:.0f} ms "
        f"over {len(probes)} probes"
    )
