"""Concurrency: two writers at once, and upserts, events and reads in parallel, lose nothing.

Two ingest or reindex jobs never write at once: the second waits (``--wait``) or fails with a
message naming the first, and the data stays whole. Upserts, events and reads sent in parallel
to a real server (and a CLI ingest beside it) give no errors, and every article and event sent
is stored exactly once. The soak runs 20 s here; ``NEWSREC_SOAK_SECONDS=60`` runs the full
minute by hand.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from index import Catalogue, WriterLock
from index.events import EventStore
from tests.conftest import LiveServer, make_settings
from tests.reliability.support import (
    PROBE_IDS,
    errors_of,
    published_count,
    run_newsrec,
    sample_rows,
    start_newsrec,
    synthetic_env,
    write_jsonl,
)

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow

API_KEY = "reliability-soak-key-91c2"
SOAK_SECONDS = float(os.environ.get("NEWSREC_SOAK_SECONDS", "20"))


def _popularity_update(tmp_path: Path, bump: int) -> Path:
    # Only popularity changes, so the ingest embeds nothing and needs no model.
    rows = [
        {**row, "popularity": float(row.get("popularity") or 0) + bump} for row in sample_rows()
    ]
    return write_jsonl(tmp_path / f"popularity-{bump}.jsonl", rows)


def test_a_reindex_while_another_job_writes_fails_naming_that_job(sample_home: Path) -> None:
    with WriterLock(sample_home, purpose="test holding the lock"):
        result = run_newsrec("reindex", "--home", sample_home)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"newsrec: error: another newsrec job (pid {os.getpid()}, 'test holding the lock') is "
        f"writing to {sample_home}; wait for it to finish or retry"
    )
    assert errors_of(sample_home) == []


def test_two_reindex_jobs_started_together_never_both_write(synthetic_home: Path) -> None:
    first = start_newsrec("reindex", "--home", synthetic_home, env=synthetic_env())
    second = start_newsrec("reindex", "--home", synthetic_home, env=synthetic_env())
    outcomes = []
    for process in (first, second):
        _, stderr = process.communicate(timeout=120)
        outcomes.append((process.returncode, stderr))
    assert any(code == 0 for code, _ in outcomes)
    for code, stderr in outcomes:
        assert code == 0 or (code == 1 and "another newsrec job" in stderr), stderr
    assert errors_of(synthetic_home) == []
    assert published_count(synthetic_home) == 20_000


def test_an_ingest_with_wait_waits_for_the_running_job_and_then_lands(
    sample_home: Path, tmp_path: Path
) -> None:
    update = _popularity_update(tmp_path, 1000)
    released = threading.Event()

    def hold_lock() -> None:
        with WriterLock(sample_home, purpose="a long reindex"):
            time.sleep(2.0)
        released.set()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    time.sleep(0.2)
    result = run_newsrec("ingest", "--home", sample_home, "--wait", "60", update)
    holder.join()
    assert released.is_set()
    assert result.returncode == 0, result.stderr
    assert "updated 80" in result.stdout
    with Catalogue(make_settings(sample_home).catalogue_path, readonly=True) as catalogue:
        assert all(r.popularity >= 1000 for r in catalogue.iter_records())


@dataclass
class _Tally:
    """What the soak's threads did; only ever changed under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # article id -> last title written
    written_at: dict[str, float] = field(default_factory=dict)
    events_sent: int = 0
    events_stored: int = 0
    upserts: int = 0
    retries: int = 0

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def _loop(stop: threading.Event, tally: _Tally, step: Callable[[int], None]) -> None:
    n = 0
    while not stop.is_set():
        try:
            step(n)
        except httpx.HTTPError as exc:
            tally.error(f"transport error: {exc!r}")
        n += 1


def test_parallel_upserts_events_and_reads_lose_nothing(
    sample_home_template: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    home = tmp_path / "home"
    shutil.copytree(sample_home_template, home)
    server = LiveServer(home, {"NEWSREC_API_KEY": API_KEY})
    tally = _Tally()
    stop = threading.Event()
    headers = {"X-API-Key": API_KEY}
    try:
        server.wait_ready()
        # The model loads on the first write; one write before the clock starts.
        warm = httpx.put(
            f"{server.url}/articles/soak-warm",
            json={"title": "Warm-up"},
            headers=headers,
            timeout=120,
        )
        warm.raise_for_status()

        def upsert(worker: int) -> Callable[[int], None]:
            http = httpx.Client(base_url=server.url, headers=headers, timeout=60)

            def step(n: int) -> None:
                # Every third write rewrites an earlier article of this worker with a new title.
                target = n // 3 if n % 3 == 2 else n
                article_id = f"soak-{worker}-{target:04d}"
                title = f"Soak story {target} from desk {worker}, version {n}: harbour cranes"
                response = http.put(f"/articles/{article_id}", json={"title": title})
                tally.add(requests=1)
                if response.status_code == 503 and "retry-after" in response.headers:
                    tally.add(retries=1)  # another writer held the lock: retry, as documented
                    time.sleep(float(response.headers["retry-after"]))
                    return
                if response.status_code not in (200, 201):
                    tally.error(f"PUT {article_id}: {response.status_code} {response.text[:200]}")
                    return
                with tally.lock:
                    tally.upserts += 1
                    tally.titles[article_id] = title
                    tally.written_at.setdefault(article_id, time.monotonic())

            return step

        def send_events(worker: int) -> Callable[[int], None]:
            http = httpx.Client(base_url=server.url, headers=headers, timeout=60)

            def step(n: int) -> None:
                events = [
                    {
                        "article_id": PROBE_IDS[j % len(PROBE_IDS)],
                        "kind": "click" if j % 4 == 0 else "view",
                        "key": f"soak-event-{worker}-{n}-{j}",
                    }
                    for j in range(100)
                ]
                response = http.post("/events", json={"events": events})
                tally.add(requests=1)
                if response.status_code != 202:
                    tally.error(f"POST /events: {response.status_code} {response.text[:200]}")
                    return
                body = response.json()
                tally.add(events_sent=len(events), events_stored=body["stored"])
                if n % 10 == 0:  # resending a batch stores nothing twice
                    again = http.post("/events", json={"events": events})
                    tally.add(requests=1)
                    if again.status_code != 202 or again.json()["stored"] != 0:
                        tally.error(f"resent events: {again.status_code} {again.text[:200]}")

            return step

        def read(worker: int) -> Callable[[int], None]:
            http = httpx.Client(base_url=server.url, timeout=60)

            def step(n: int) -> None:
                with tally.lock:
                    settled = [a for a, t in tally.written_at.items() if time.monotonic() - t > 2]
                article_id = settled[n % len(settled)] if settled and n % 2 else PROBE_IDS[n % 4]
                response = http.get(f"/articles/{article_id}/related", params={"k": 5})
                tally.add(requests=1)
                if response.status_code != 200:
                    tally.error(f"GET {article_id}: {response.status_code} {response.text[:200]}")

            return step

        steps = [upsert(0), upsert(1), send_events(0), send_events(1), read(0), read(1)]
        threads = [threading.Thread(target=_loop, args=(stop, tally, s)) for s in steps]
        for thread in threads:
            thread.start()
        # A CLI ingest writes to the same home from another process half-way through.
        time.sleep(SOAK_SECONDS / 2)
        cli = run_newsrec("ingest", "--home", home, "--wait", "60", _popularity_update(tmp_path, 7))
        time.sleep(max(0.0, SOAK_SECONDS / 2 - 3))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert cli.returncode == 0, cli.stderr

        ledger["load: requests during the soak"] += tally.requests
        assert tally.errors == []
        assert tally.events_stored == tally.events_sent
        with EventStore(home / "catalogue.sqlite", readonly=True) as events:
            stored_events = events.count()
        ledger["inputs: events sent during the soak"] += tally.events_sent
        ledger["inputs: article upserts during the soak"] += tally.upserts
        ledger["lost: events"] += tally.events_sent - stored_events
        assert stored_events == tally.events_sent
        with Catalogue(make_settings(home).catalogue_path, readonly=True) as catalogue:
            records = list(catalogue.iter_records())
        stored_titles = {r.id: r.title for r in records if r.id.startswith("soak-")}
        stored_titles.pop("soak-warm")
        ledger["lost: articles"] += len(set(tally.titles) - set(stored_titles))
        assert stored_titles == tally.titles
        assert len(records) == len({r.id for r in records}) == 80 + 1 + len(tally.titles)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for article_id in tally.titles:
                assert http.get(f"/articles/{article_id}").status_code == 200
    finally:
        stop.set()
        server.stop()
    assert errors_of(home) == []
