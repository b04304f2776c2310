"""Service latency and throughput under wrk, beside a constant-JSON app, and serving memory.

``newsrec serve`` (one uvicorn worker) runs on 127.0.0.1 over a benchmark home; wrk asks for
the lists of uniformly random published articles (so the response cache rarely helps), at one
and at eight connections. The same server is also asked for one article's lists over and over,
which the response cache answers: that row is the service's own part (HTTP, middleware, keys,
options, cache, logs, metrics) without the engine. A FastAPI app answering a constant JSON
document runs under the same uvicorn settings in the same rounds, so the ratios show what
newsrec adds to the framework. Resident memory (VmRSS) of the serving process is read after
the load, split into its anonymous part (the process's own) and its file-backed part (pages of
memory-mapped index files read so far: page cache, shared by the processes serving the same
index version and dropped under memory pressure).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from evaluation.bench.config import BenchConfig
from evaluation.bench.report import Report
from recommender.operations.indexing import index_kind_for
from recommender.settings import Settings

__all__ = ["WRK", "ResidentMemory", "Server", "memory_rows", "service_section", "wrk_run"]

WRK = "wrk"
_CONNECTIONS = (1, 8)
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class ResidentMemory:
    """A process's resident memory, MiB: all of it, its anonymous part and its file pages."""

    rss: float
    anonymous: float
    files: float


class Server:
    """A real server process on 127.0.0.1: ``newsrec serve`` or the constant app."""

    def __init__(
        self, args: list[str], log: Path, ready_path: str, env: Mapping[str, str] | None = None
    ) -> None:
        """Start ``python args...`` with a port appended; ``ready_path`` answers 200 when up.

        The process gets none of the caller's ``NEWSREC_*`` variables, only those in ``env``.
        """
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = ready_path
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
        environ.update(env or {})
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, *args, "--port", str(self.port)],
            env=environ,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 1800.0) -> None:
        """Wait until the ready path answers 200 (a 1M home takes minutes to load)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self._log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + self._ready, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready after {timeout}s")

    def memory(self) -> ResidentMemory:
        """Resident memory of the server process (VmRSS, RssAnon, RssFile + RssShmem)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()

        def mib(field: str) -> float:
            match = re.search(rf"{field}:\s+(\d+) kB", status)
            return int(match.group(1)) / 1024 if match else float("nan")

        return ResidentMemory(mib("VmRSS"), mib("RssAnon"), mib("RssFile") + mib("RssShmem"))

    def stop(self) -> None:
        """Terminate and reap the process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    p50_ms: float
    p99_ms: float
    requests_per_second: float
    errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"wrk latency {text!r} not understood")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _lua(ids: list[str], folder: Path, name: str = "random-articles") -> Path:
    script = folder / f"{name}.lua"
    quoted = ",".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in ids)
    script.write_text(
        f"local ids = {{{quoted}}}\n"
        "math.randomseed(7)\n"
        "request = function()\n"
        "  local id = ids[math.random(#ids)]\n"
        '  return wrk.format("GET", "/articles/" .. id .. "/related")\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def wrk_run(url: str, script: Path, connections: int, seconds: int) -> WrkResult:
    """Run wrk with one thread against ``url`` and parse its latency distribution."""
    done = subprocess.run(
        [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    out = done.stdout
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if not (p50 and p99 and rate):
        raise RuntimeError(f"wrk output not understood:\n{out}\n{done.stderr}")
    return WrkResult(
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        float(rate.group(1)),
        int(errors.group(1)) if errors else 0,
    )


def _newsrec(settings: Settings, logs: Path) -> Server:
    return Server(
        ["-m", "recommender", "serve", "--home", str(settings.home)],
        logs / f"newsrec-{settings.home.name}.log",
        "/readyz",
    )


def service_section(
    report: Report, config: BenchConfig, settings: Settings, ids: list[str], articles: int
) -> ResidentMemory | None:
    """wrk against newsrec and the constant app, interleaved, at 1 and 8 connections.

    Returns the serving process's resident memory after the load, or None if wrk is missing.
    """
    if shutil.which(WRK) is None:
        report.say("service benchmark skipped: wrk not found (Debian: apt-get install -y wrk)")
        return None
    logs = config.work / "logs"
    random_ids = _lua(ids, config.work)
    one_id = _lua(ids[:1], config.work, "one-article")
    newsrec = _newsrec(settings, logs)
    constant = Server(["-m", "evaluation.bench.constant_app"], logs / "constant.log", "/livez")
    try:
        newsrec.wait_ready()
        constant.wait_ready()
        table = report.table(
            "Service",
            f"GET /articles/{{id}}/related over {articles:,} articles, one uvicorn worker, "
            "loopback, wrk",
            [
                "connections",
                "server",
                "p50 ms",
                "p99 ms",
                "requests/s",
                "errors",
                "req/s vs constant",
            ],
        )
        report.note(
            table,
            f"median of {config.repeats} interleaved {config.service_seconds} s "
            "wrk runs per row, after a warm-up run; 'random articles': ids drawn uniformly "
            "from every published article, so the response cache rarely answers; 'one article, "
            "cached': the same id every time, answered by the response cache (the service "
            "without the engine)",
        )
        loads = {
            "newsrec serve, random articles": (newsrec, random_ids),
            "newsrec serve, one article, cached": (newsrec, one_id),
            "constant JSON": (constant, random_ids),
        }
        for connections in _CONNECTIONS:
            for server, script in loads.values():  # warm-up
                wrk_run(server.url, script, connections, max(1, config.service_seconds // 2))
            results: dict[str, list[WrkResult]] = {name: [] for name in loads}
            for _ in range(config.repeats):
                for name, (server, script) in loads.items():
                    results[name].append(
                        wrk_run(server.url, script, connections, config.service_seconds)
                    )
            for name, runs in results.items():
                ratio = statistics.median(
                    a.requests_per_second / b.requests_per_second
                    for a, b in zip(runs, results["constant JSON"], strict=True)
                )
                report.row(
                    table,
                    connections,
                    name,
                    statistics.median(r.p50_ms for r in runs),
                    statistics.median(r.p99_ms for r in runs),
                    statistics.median(r.requests_per_second for r in runs),
                    sum(r.errors for r in runs),
                    ratio,
                )
        return newsrec.memory()
    finally:
        newsrec.stop()
        constant.stop()


def memory_rows(
    report: Report,
    config: BenchConfig,
    homes: list[tuple[int, Settings, list[str]]],
    measured: dict[int, ResidentMemory],
) -> None:
    """Resident memory of ``newsrec serve`` over each home, after serving some lists.

    ``measured`` holds sizes already measured (after the wrk load); the rest get a server of
    their own, read after 200 requests.
    """
    table = report.table(
        "Memory",
        "Resident memory (RSS) of the serving process",
        [
            "articles",
            "index",
            "RSS MiB",
            "anonymous MiB",
            "mapped files MiB",
            "float32 vectors MiB",
        ],
    )
    report.note(
        table,
        "VmRSS from /proc/PID/status after the wrk runs (or 200 requests for random articles), "
        "split into RssAnon (the process's own memory) and RssFile (pages of the memory-mapped "
        "neighbour table read so far: page cache, shared by every process serving the version "
        "and dropped under memory pressure); float32 vectors: n x 384 x 4 B, in the process "
        "with hnsw float32 storage; with sq8 they stay in the version's exact.npy, read a row "
        "at a time through the page cache (index/rows.py)",
    )
    logs = config.work / "logs"
    for articles, settings, ids in homes:
        memory = measured.get(articles)
        if memory is None:
            server = _newsrec(settings, logs)
            try:
                server.wait_ready()
                with httpx.Client(base_url=server.url, timeout=30.0) as client:
                    for article_id in ids[:200]:
                        client.get(f"/articles/{article_id}/related")
                memory = server.memory()
            finally:
                server.stop()
        kind = index_kind_for(articles, settings)
        if kind == "hnsw":
            kind = f"hnsw, {settings.hnsw_storage}"
        vectors = articles * 384 * 4 / 2**20
        report.row(table, articles, kind, memory.rss, memory.anonymous, memory.files, vectors)
