"""A lost catalogue under a published index: refused at start, never "ready", never a write
acknowledged into a file nobody will open again, and no advice that would make the loss
permanent."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from index import Catalogue, WriterLock
from recommender.operations.doctor import examine
from tests.conftest import LiveServer, free_port, make_settings
from tests.reliability.support import run_newsrec

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow

WRITE_KEY = "test-write-key-0123456789"


def _serve(home: Path) -> tuple[int, list[str]]:
    result = run_newsrec("serve", "--home", home, "--port", str(free_port()), timeout=120)
    return result.returncode, [line for line in result.stderr.splitlines() if line.strip()]


def _empty_catalogue(home: Path) -> None:
    path = make_settings(home).catalogue_path
    path.unlink(missing_ok=True)
    Catalogue(path).close()


def test_serve_refuses_a_missing_catalogue_under_an_index_in_one_line(
    sample_home: Path, ledger: Counter[str]
) -> None:
    make_settings(sample_home).catalogue_path.unlink()
    code, lines = _serve(sample_home)
    ledger["faults: lost catalogues"] += 1
    assert code != 0
    assert len(lines) == 1, lines
    assert "no catalogue, but index" in lines[0] and "holds 80 articles" in lines[0]
    assert not make_settings(sample_home).catalogue_path.exists()  # none was created


def test_serve_refuses_an_empty_catalogue_under_an_index(sample_home: Path) -> None:
    _empty_catalogue(sample_home)
    code, lines = _serve(sample_home)
    assert code != 0
    assert len(lines) == 1, lines
    assert "holds no articles, but index" in lines[0]


def test_doctor_never_advises_a_reindex_that_would_empty_the_lists(sample_home: Path) -> None:
    settings = make_settings(sample_home)
    settings.catalogue_path.unlink()
    missing = [f for f in examine(settings).findings if f.severity == "error"]
    assert missing and "holds 80 articles" in missing[0].message
    assert "restore the catalogue from a backup" in missing[0].fix
    assert "do not run `newsrec reindex`" in missing[0].fix
    _empty_catalogue(sample_home)
    for finding in examine(settings).findings:
        if "reindex" in finding.fix:
            assert "would publish 0 articles where the index serves 80" in finding.fix, finding


def test_a_catalogue_moved_away_while_serving_stops_writes_and_readiness(
    sample_home: Path,
) -> None:
    server = LiveServer(sample_home, {"NEWSREC_API_KEY": WRITE_KEY})
    try:
        server.wait_ready(timeout=120)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/readyz").status_code == 200
            path = make_settings(sample_home).catalogue_path
            path.rename(path.with_name("moved.sqlite"))
            deadline = time.monotonic() + 5
            while http.get("/readyz").status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert "moved, removed or replaced" in ready.json()["reason"]
            article = {"title": "A write after the move", "body": "Must not be acknowledged."}
            put = http.put("/articles/late-1", json=article, headers={"X-API-Key": WRITE_KEY})
            assert put.status_code == 503, put.text
            assert http.get("/articles/sample-001/related").status_code == 200  # reads go on
    finally:
        server.stop()


def test_readyz_is_not_ready_with_no_articles_against_an_index(sample_home: Path) -> None:
    # Started on a good home, then every article unpublished under it.
    server = LiveServer(sample_home)
    try:
        server.wait_ready(timeout=120)
        settings = make_settings(sample_home)
        with WriterLock(sample_home), Catalogue(settings.catalogue_path) as catalogue:
            for record in list(catalogue.iter_records()):
                catalogue.unpublish(record.id)
        deadline = time.monotonic() + 5
        ready = httpx.get(server.url + "/readyz", timeout=30)
        while ready.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            ready = httpx.get(server.url + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert "articles" in ready.json()["reason"]
    finally:
        server.stop()
