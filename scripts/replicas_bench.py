"""Figures of issue 19: serving replicas over one PostgreSQL catalogue and one shared store.

Usage::

    python scripts/replicas_bench.py HOME [--work DIR] [--ingest 20000] [--upserts 200]
        [--seconds 10] [--repeats 3] [--articles FILE]

HOME is a SQLite home to start from (BENCHMARKS.md used the 100k-article synthetic serving
home of ``python -m evaluation.bench``). A throwaway PostgreSQL cluster is started in WORK
(``scripts/pg_cluster.sh``) and stopped at the end. Printed, with ``lscpu`` first:

1. catalogue writes, PostgreSQL against SQLite: the first ``--ingest`` articles of HOME, with
   their vectors, upserted in batches of 1,000 into an empty catalogue of each kind,
   interleaved, ``--repeats`` times; medians and the ratio; then the whole ``newsrec ingest``
   (embedding included, index published) of ``--articles`` into a new home of each kind;
2. ``newsrec copy-catalogue HOME URL`` and ``newsrec reindex --store`` at the size of HOME;
3. a new replica joining: ``newsrec serve`` on an empty home until ``/readyz`` answers 200;
4. upsert to visible on the other replica, over ``--upserts`` upserts: p50, p99, max;
5. GET related with wrk, random articles, 8 connections: one replica against two (each with
   its own wrk), interleaved, ``--repeats`` times.

Everything runs on this machine's cores: the replicas, PostgreSQL and wrk share them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from evaluation.bench.machine import lscpu
from evaluation.bench.service import WrkResult, wrk_run
from index import Catalogue

_ROOT = Path(__file__).resolve().parents[1]
_PG = _ROOT / "scripts" / "pg_cluster.sh"
_KEY = "bench-write-key-0123456789"
_SECRET = "bench-recommendation-secret"
_BATCH = 1_000


def _run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args[:3]))} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def _newsrec(*args: str | Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    _run(sys.executable, "-m", "recommender", *args, env=env)
    return time.perf_counter() - start


@contextmanager
def _cluster(work: Path) -> Iterator[str]:
    folder = work / "pg"
    shutil.rmtree(folder, ignore_errors=True)
    _run(_PG, "start", folder)
    try:
        yield str(folder)
    finally:
        _run(_PG, "stop", folder)


def _database(folder: str, name: str) -> str:
    return _run(_PG, "createdb", folder, name)


def _env(url: str, store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    env.update(
        NEWSREC_CATALOGUE_URL=url,
        NEWSREC_STORE_URL=str(store),
        NEWSREC_RECOMMENDATION_SECRET=_SECRET,
        NEWSREC_API_KEY=_KEY,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def _ingest_figures(home: Path, folder: str, work: Path, count: int, repeats: int) -> None:
    with Catalogue(home / "catalogue.sqlite", readonly=True) as source:
        records = []
        for record in source.iter_records():
            records.append(record)
            if len(records) == count:
                break
        _, matrix = source.vectors(r.doc_id for r in records)
    vectors = dict(zip((r.id for r in records), matrix, strict=True))
    seconds: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for repeat in range(repeats):
        for kind in ("postgresql", "sqlite") if repeat % 2 else ("sqlite", "postgresql"):
            if kind == "sqlite":
                target: Path | str = work / f"ingest-{repeat}.sqlite"
                Path(target).unlink(missing_ok=True)
            else:
                target = _database(folder, f"ingest_{repeat}")
            with Catalogue(target) as catalogue:
                start = time.perf_counter()
                for at in range(0, len(records), _BATCH):
                    batch = records[at : at + _BATCH]
                    catalogue.upsert(batch, {r.id: vectors[r.id] for r in batch})
                seconds[kind].append(time.perf_counter() - start)
    rates = {kind: len(records) / statistics.median(s) for kind, s in seconds.items()}
    print(
        f"1. catalogue writes, {len(records)} articles in batches of {_BATCH}, median of "
        f"{repeats}: SQLite {rates['sqlite']:,.0f}/s, PostgreSQL {rates['postgresql']:,.0f}/s "
        f"(PostgreSQL/SQLite {rates['postgresql'] / rates['sqlite']:.2f})",
        flush=True,
    )


def _whole_ingest(articles: Path, folder: str, work: Path, repeats: int) -> None:
    seconds: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for repeat in range(repeats):
        for kind in ("postgresql", "sqlite") if repeat % 2 else ("sqlite", "postgresql"):
            home = work / f"whole-{kind}-{repeat}"
            env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
            if kind == "postgresql":
                env["NEWSREC_CATALOGUE_URL"] = _database(folder, f"whole_{repeat}")
            seconds[kind].append(_newsrec("ingest", "--home", home, articles, env=env))
    medians = {kind: statistics.median(s) for kind, s in seconds.items()}
    with Catalogue(work / "whole-sqlite-0" / "catalogue.sqlite", readonly=True) as catalogue:
        count = catalogue.count()
    print(
        f"1b. newsrec ingest {articles.name} ({count:,} articles: embed, write, publish), median "
        f"of {repeats}: SQLite {medians['sqlite']:.1f}s ({count / medians['sqlite']:,.0f}/s), "
        f"PostgreSQL {medians['postgresql']:.1f}s ({count / medians['postgresql']:,.0f}/s) "
        f"(PostgreSQL/SQLite throughput {medians['sqlite'] / medians['postgresql']:.2f})",
        flush=True,
    )


class _Replica:
    def __init__(self, home: Path, port: int, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "recommender",
                "serve",
                "--home",
                str(home),
                "--port",
                f"{port}",
            ],
            env=env,
            stdout=(home.parent / f"{home.name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )

    def ready_after(self, timeout: float = 900.0) -> float:
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"replica on {self.url} exited")
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"replica on {self.url} not ready after {timeout}s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _visible(writer: _Replica, reader: _Replica, upserts: int) -> None:
    seconds: list[float] = []
    with (
        httpx.Client(base_url=writer.url, headers={"X-API-Key": _KEY}, timeout=30) as write,
        httpx.Client(base_url=reader.url, timeout=30) as read,
    ):
        for n in range(upserts):
            article = {
                "title": f"Harbour ferry timetable changes for route {n}",
                "body": f"The harbour authority moves the departures of ferry route {n} by ten "
                "minutes from Monday, after complaints about missed train connections.",
                "section": "city",
            }
            answer = write.put(f"/articles/bench-upsert-{n}", json=article)
            answer.raise_for_status()
            acknowledged = time.perf_counter()
            while (
                read.get(f"/articles/bench-upsert-{n}/related", params={"k": 1}).status_code != 200
            ):
                time.sleep(0.005)
            seconds.append(time.perf_counter() - acknowledged)
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, int(0.99 * len(seconds)))]
    print(
        f"4. upsert (acknowledged) to visible on the other replica, {upserts} upserts: p50 "
        f"{statistics.median(seconds) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
        f"{seconds[-1] * 1000:.0f} ms",
        flush=True,
    )


def _lua(ids: list[str], work: Path) -> Path:
    script = work / "random-articles.lua"
    quoted = ",".join(f'"{i}"' for i in ids)
    script.write_text(
        f"local ids = {{{quoted}}}\nmath.randomseed(7)\nrequest = function()\n"
        '  return wrk.format("GET", "/articles/" .. ids[math.random(#ids)] .. "/related")\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def _throughput(replicas: list[_Replica], script: Path, seconds: int, repeats: int) -> None:
    one: list[WrkResult] = []
    two: list[list[WrkResult]] = []
    for replica in replicas:  # warm-up: caches, first-call costs
        wrk_run(replica.url, script, 8, max(1, seconds // 2))
    for repeat in range(repeats):
        order = ("one", "two") if repeat % 2 == 0 else ("two", "one")
        for kind in order:
            if kind == "one":
                one.append(wrk_run(replicas[0].url, script, 8, seconds))
                continue
            results: list[WrkResult] = []

            def load(replica: _Replica, into: list[WrkResult] = results) -> None:
                into.append(wrk_run(replica.url, script, 8, seconds))

            threads = [threading.Thread(target=load, args=(r,)) for r in replicas]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            two.append(results)
    rate_one = statistics.median(r.requests_per_second for r in one)
    rate_two = statistics.median(sum(r.requests_per_second for r in rs) for rs in two)
    p99_one = statistics.median(r.p99_ms for r in one)
    p99_two = statistics.median(max(r.p99_ms for r in rs) for rs in two)
    errors = sum(r.errors for r in one) + sum(r.errors for rs in two for r in rs)
    print(
        f"5. GET related, random articles, 8 connections per replica, {seconds}s, median of "
        f"{repeats}: 1 replica {rate_one:,.0f} req/s (p99 {p99_one:.1f} ms); 2 replicas "
        f"{rate_two:,.0f} req/s together (p99 {p99_two:.1f} ms); ratio {rate_two / rate_one:.2f}; "
        f"non-2xx {errors}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the five measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--work", type=Path, default=Path(".bench-work/replicas"))
    parser.add_argument("--ingest", type=int, default=20_000)
    parser.add_argument("--upserts", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--articles", type=Path, default=_ROOT.parent / "shared/data/mind_small_sample/news.tsv"
    )
    args = parser.parse_args(argv)
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for line in lscpu():
        print(line)
    print(flush=True)
    with _cluster(work) as folder:
        _ingest_figures(args.home, folder, work, args.ingest, args.repeats)
        _whole_ingest(args.articles.resolve(), folder, work, args.repeats)
        url = _database(folder, "site")
        env = _env(url, work / "store")
        copy = _newsrec("copy-catalogue", args.home, url, env=env)
        reindex = _newsrec("reindex", "--home", work / "builder", env=env)
        with Catalogue(url, readonly=True) as catalogue:
            size = catalogue.count()
            ids = [r.id for r in catalogue.get_by_doc_ids(range(1, 20_001))]
        print(
            f"2. {size:,} articles: copy-catalogue SQLite to PostgreSQL {copy:.1f}s; reindex "
            f"publishing to the store {reindex:.1f}s",
            flush=True,
        )
        replicas = [_Replica(work / "replica-1", 8601, env)]
        try:
            joined = replicas[0].ready_after()
            print(
                f"3. a new replica joining at {size:,} articles (empty home: fetch the "
                f"version, load it, read the catalogue, load the model): {joined:.1f}s",
                flush=True,
            )
            replicas.append(_Replica(work / "replica-2", 8602, env))
            replicas[1].ready_after()
            _visible(replicas[0], replicas[1], args.upserts)
            _throughput(replicas, _lua(ids, work), args.seconds, args.repeats)
        finally:
            for replica in replicas:
                replica.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
