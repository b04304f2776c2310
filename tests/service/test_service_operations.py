"""Operations: index swaps under load, several workers, readiness, graceful shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index import Catalogue, IndexStore, WriterLock
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import article_from_mapping, embedding_text
from recommender.operations.indexing import publish_index
from tests.conftest import make_settings
from tests.service.servers import start

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow

SOURCES = ["sample-002", "sample-014", "sample-039", "sample-050", "sample-067", "sample-077"]
LOAD_THREADS = 8
MIN_REQUESTS = 1_000


def newsrec(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    return subprocess.run(
        [sys.executable, "-m", "recommender", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def answer(body: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lists of a response, as ids."""
    return (
        tuple(item["id"] for item in body["more_like_this"]),
        tuple(item["id"] for item in body["related"]),
    )


def test_reindex_under_load_swaps_atomically(sample_home: Path) -> None:
    # Caching is off so that every request is answered by the engine during the swap.
    server = start(sample_home, {"NEWSREC_CACHE_ENTRIES": "0"})
    try:
        with httpx.Client(base_url=server.url) as http:
            old = {s: http.get(f"/articles/{s}/related").json() for s in SOURCES}
        old_version = old[SOURCES[0]]["index_version"]
        results: list[tuple[int, str, str, str, Any]] = []
        errors: list[BaseException] = []
        swapped_at: list[int] = []
        stop = threading.Event()

        def load(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                turn = worker
                while not stop.is_set():
                    source = SOURCES[turn % len(SOURCES)]
                    turn += 1
                    try:
                        response = http.get(f"/articles/{source}/related")
                    except httpx.HTTPError as exc:
                        errors.append(exc)
                        continue
                    body = response.json() if response.status_code == 200 else None
                    results.append(
                        (
                            response.status_code,
                            source,
                            body["index_version"] if body else "",
                            response.headers.get("X-Index-Version", ""),
                            answer(body) if body else None,
                        )
                    )
                    if body and body["index_version"] != old_version and not swapped_at:
                        swapped_at.append(len(results))

        threads = [threading.Thread(target=load, args=(n,)) for n in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        reindex = newsrec("reindex", home=sample_home)
        deadline = time.monotonic() + 60
        # Keep the load on until the new version has served a while and the total is reached.
        while not (swapped_at and len(results) >= max(MIN_REQUESTS, swapped_at[0] + 200)):
            assert time.monotonic() < deadline, f"{len(results)} requests, swap {swapped_at}"
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        assert reindex.returncode == 0, reindex.stderr
        with httpx.Client(base_url=server.url) as http:
            new = {s: http.get(f"/articles/{s}/related").json() for s in SOURCES}
    finally:
        server.stop()

    new_version = new[SOURCES[0]]["index_version"]
    assert (old_version, new_version) == ("v000001", "v000002")
    assert errors == []
    assert len(results) >= MIN_REQUESTS
    assert Counter(status for status, *_ in results) == {200: len(results)}
    assert {version for _, _, version, _, _ in results} == {old_version, new_version}
    assert all(header == version for _, _, version, header, _ in results)
    expected = {
        (version, s): answer(lists[s])
        for version, lists in ((old_version, old), (new_version, new))
        for s in SOURCES
    }
    assert all(expected[(version, s)] == lists for _, s, version, _, lists in results)


def test_workers_serve_one_index_and_follow_each_write_within_a_second(
    sample_home: Path, embedder: Embedder
) -> None:
    server = start(sample_home, None, "--workers", "2")
    try:
        pids = set()
        for _ in range(200):
            pids.add(httpx.get(server.url + "/readyz").json()["pid"])
            if len(pids) == 2:
                break
        assert len(pids) == 2
        versions = {httpx.get(server.url + "/readyz").json()["index_version"] for _ in range(20)}
        assert versions == {"v000001"}

        # Another process (as `newsrec ingest` would) adds a follow-up to the regatta story.
        record = article_from_mapping(
            {
                "id": "regatta-151",
                "title": "Marrow Regatta adds a women's coastal rowing race",
                "body": "The 151st Marrow Regatta on the River Marrow will add a coastal race "
                "for women's crews, organisers said after record entries this year.",
                "section": "sport",
                "published_at": "2026-10-09T08:00:00Z",
            }
        )
        vector = embedder.encode([embedding_text(record.title, record.body)])[0]
        with WriterLock(sample_home), Catalogue(sample_home / "catalogue.sqlite") as catalogue:
            catalogue.upsert([record], {record.id: vector})
        written = time.monotonic()
        for _ in range(30):  # each on a new connection, so both workers answer some
            while True:
                body = httpx.get(server.url + "/articles/sample-066/related").json()
                if "regatta-151" in {i["id"] for i in body["more_like_this"] + body["related"]}:
                    break
                assert time.monotonic() - written < 1.0, "a worker missed the write for 1 s"
                time.sleep(0.02)

        for _ in range(40):
            httpx.get(server.url + "/articles/sample-066")
        totals = set()
        for _ in range(6):
            metrics = httpx.get(server.url + "/metrics").text
            line = next(
                line
                for line in metrics.splitlines()
                if line.startswith(
                    'newsrec_http_request_duration_seconds_count{method="GET",'
                    'route="/articles/{article_id}",status="200"}'
                )
            )
            totals.add(float(line.rsplit(" ", 1)[1]))
        assert totals == {40.0}  # every worker's count, whichever worker is scraped
    finally:
        server.stop()


def test_ready_only_once_an_index_is_loaded(tmp_path: Path, sample_home_template: Path) -> None:
    home = tmp_path / "empty-home"
    server = start(home)
    try:
        not_ready = httpx.get(server.url + "/readyz")
        assert (not_ready.status_code, not_ready.json()["status"]) == (503, "not ready")
        # Articles arrive (with the vectors already computed for the sample) and an index is
        # published, as `newsrec ingest` would do.
        with Catalogue(sample_home_template / "catalogue.sqlite") as source:
            records = list(source.iter_records())
            doc_ids, matrix = source.vectors()
        vectors = dict(zip(doc_ids.tolist(), matrix, strict=True))
        settings = make_settings(home)
        with WriterLock(home), Catalogue(settings.catalogue_path) as catalogue:
            catalogue.upsert(records, {r.id: vectors[r.doc_id] for r in records})
            publish_index(catalogue, IndexStore(settings.index_root), settings)
        deadline = time.monotonic() + 5
        while httpx.get(server.url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert httpx.get(server.url + "/articles/sample-001/related").status_code == 200
    finally:
        server.stop()


def test_sigterm_lets_the_request_in_flight_finish(sample_home: Path) -> None:
    server = start(sample_home)
    sent_first_part = threading.Event()

    def slow_body() -> Iterator[bytes]:
        # A client on a slow line: the request is in flight while the server is told to stop.
        yield b'{"ids": ["sample-002", '
        sent_first_part.set()
        for _ in range(10):
            time.sleep(0.2)
            yield b" "
        yield b'"sample-014"], "k": 3}'

    outcome: list[httpx.Response] = []
    request = threading.Thread(
        target=lambda: outcome.append(
            httpx.post(
                server.url + "/related",
                content=slow_body(),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        )
    )
    try:
        request.start()
        assert sent_first_part.wait(10)
        time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)
        request.join()
        code = server.process.wait(timeout=60)
    finally:
        server.stop()
    assert outcome[0].status_code == 200
    assert len(outcome[0].json()["more_like_this"]) == 3
    # uvicorn re-raises the signal once shut down, so the exit status says "terminated".
    assert code in (0, -signal.SIGTERM)
    log = server.log.read_text()
    assert log.index('"message": "POST /related 200"') < log.index('"message": "stopped serving')
