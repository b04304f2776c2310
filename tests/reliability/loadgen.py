"""A small HTTP load generator, run as its own process so that its work does not slow the
measuring process: ``python -m tests.reliability.loadgen URL CONNECTIONS SECONDS PATH...``.

Each connection sends GET requests over one keep-alive connection, as fast as answers come,
for ``SECONDS``; with ``--rounds N`` instead, every connection sends one request at the same
moment, N times, a fifth of a second apart (a burst). Each path is taken in turn, ``{rand}``
in it replaced by a random number in [0, 1) and ``{id}`` by a random ``syn-NNNNNN`` id below
``--ids``. The answer is one JSON
line on stdout: per status, the count and the latencies' median and 99th percentile in ms,
and the number of failed connections. Plain sockets keep the generator's own cost small.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import defaultdict
from urllib.parse import urlsplit


async def _connection(
    host: str,
    port: int,
    paths: list[str],
    ids: int,
    until: float,
    out: dict[int, list[float]],
    barrier: asyncio.Barrier | None,
    rounds: int,
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    failures = 0
    turn = random.randrange(len(paths))
    sent = 0
    try:
        while time.monotonic() < until if barrier is None else sent < rounds:
            if barrier is not None:
                await asyncio.sleep(0.2 * (sent > 0))
                await barrier.wait()
            sent += 1
            path = paths[turn % len(paths)]
            turn += 1
            path = path.replace("{rand}", f"{random.random():.6f}").replace(
                "{id}", f"syn-{random.randrange(ids):06d}"
            )
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            closing = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"connection" and b"close" in value.lower():
                    closing = True
            await reader.readexactly(length)
            out[status].append(time.perf_counter() - started)
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (OSError, asyncio.IncompleteReadError):
        failures += 1
    finally:
        writer.close()
    return failures


async def _run(
    url: str, connections: int, seconds: float, paths: list[str], ids: int, rounds: int
) -> str:
    parts = urlsplit(url)
    out: dict[int, list[float]] = defaultdict(list)
    until = time.monotonic() + seconds
    barrier = asyncio.Barrier(connections) if rounds else None
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    failures = await asyncio.gather(
        *(
            _connection(host, port, paths, ids, until, out, barrier, rounds)
            for _ in range(connections)
        )
    )
    report: dict[str, object] = {"failed_connections": sum(failures)}
    for status, samples in sorted(out.items()):
        samples.sort()
        report[str(status)] = {
            "count": len(samples),
            "p50_ms": round(1000 * samples[len(samples) // 2], 2),
            "p99_ms": round(1000 * samples[min(len(samples) - 1, int(0.99 * len(samples)))], 2),
        }
    return json.dumps(report)


def main() -> None:
    """Run the load described on the command line and print its report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("connections", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--ids", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=0)
    args = parser.parse_args()
    report = _run(args.url, args.connections, args.seconds, args.paths, args.ids, args.rounds)
    print(asyncio.run(report))


if __name__ == "__main__":
    main()
