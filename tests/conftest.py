"""Shared fixtures: the real model loaded once, the bundled sample ingested once, real servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from recommender.embedding.embedder import Embedder, SentenceTransformerEmbedder
from recommender.ingestion.ingest import ingest
from recommender.settings import Settings

if TYPE_CHECKING:
    from tests.postgres import ThrowawayCluster

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "recommender" / "sample" / "articles.jsonl"
SAMPLE_EVENTS = ROOT / "recommender" / "sample" / "events.jsonl"
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once for the whole test session."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with the reason when it is absent."""
    if not (SHARED_DATA / "reuters21578.jsonl.gz").is_file():
        pytest.skip(f"real corpora not found at {SHARED_DATA} (they live beside the project)")
    return SHARED_DATA


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings for a home under test, ignoring the developer's NEWSREC_* environment."""
    return Settings(home=home, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_home_template(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A home with the bundled sample ingested, built once; copy it before writing to it."""
    home = tmp_path_factory.mktemp("sample-home") / "home"
    report = ingest([SAMPLE], make_settings(home), lambda: embedder)
    assert report.rejected == 0, report.problems
    return home


@pytest.fixture
def sample_home(sample_home_template: Path, tmp_path: Path) -> Path:
    """A private copy of the sample home, free to modify."""
    home = tmp_path / "home"
    shutil.copytree(sample_home_template, home)
    return home


@pytest.fixture(scope="session")
def sample_shards_template(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The bundled sample embedded once into vector shards (``newsrec embed``) with the
    session's model, under settings ``make_settings(home, embed_backend="torch")``; copy
    the folder before writing to it."""
    from recommender.distributed.embed import embed_files

    folder = tmp_path_factory.mktemp("sample-shards")
    settings = make_settings(folder / "home", embed_backend="torch")
    report = embed_files([str(SAMPLE)], folder / "shards", settings, embedder=lambda: embedder)
    assert report.written == 80 and not report.problems, report.problems
    return folder / "shards"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real ``newsrec serve`` process on 127.0.0.1."""

    def __init__(self, home: Path, env: dict[str, str] | None = None, *args: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"server-{self.port}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
        environ.update(env or {})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "recommender",
                "serve",
                "--home",
                str(home),
                "--port",
                str(self.port),
                *args,
            ],
            env=environ,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                # Up, and past loading the embedding model (a worker that takes writes loads
                # it at start and is not ready until then; a test's first write must not wait).
                if httpx.get(self.url + "/livez", timeout=1.0).status_code == 200 and (
                    httpx.get(self.url + "/readyz", timeout=5.0).json().get("embedding_model")
                    != "loading"
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server not up after {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def live_server(sample_home: Path) -> Iterator[LiveServer]:
    """``newsrec serve`` over a copy of the sample home, on a free port."""
    server = LiveServer(sample_home)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL superuser URL to database ``postgres``, for the whole session.

    ``NEWSREC_TEST_PG_URL`` if set; else a throwaway cluster on 127.0.0.1 (tests/postgres.py),
    stopped at the end. Without PostgreSQL installed the tests that need it skip, naming why,
    unless ``NEWSREC_REQUIRE_POSTGRES=1`` (CI), where they fail instead.
    """
    from tests.postgres import URL_VARIABLE, start_cluster_for_tests, wait_for_server

    given = os.environ.get(URL_VARIABLE)
    if given:
        wait_for_server(given, timeout=10.0)
        yield given
        return
    cluster = start_cluster_for_tests()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database of its own, dropped after the test."""
    from tests.postgres import create_database, drop_database

    url = create_database(pg_server)
    try:
        yield url
    finally:
        from index.postgres import close_pools

        # The test's pools (of this URL, or of it with a password or options added) would
        # otherwise keep refilling themselves against a database that is gone.
        close_pools()
        drop_database(pg_server, url)


@pytest.fixture
def pg_cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster of the test's own (``tests.postgres.ThrowawayCluster``), for
    tests that stop and restart the database (``stop_server``/``start_server``) without
    disturbing the session's server; removed after the test."""
    from tests.postgres import start_cluster_for_tests

    cluster = start_cluster_for_tests()
    try:
        yield cluster
    finally:
        cluster.stop()
