"""Servers shared by the service tests: real ``newsrec serve`` processes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.service.servers import ALLOWED_ORIGIN, copy_home, start


@pytest.fixture(scope="session")
def read_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server over the sample with no keys (reads open, writes refused) and CORS for one
    origin. Tests must not change its data."""
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("read-server"))
    server = start(home, {"NEWSREC_CORS_ORIGINS": f'["{ALLOWED_ORIGIN}"]'})
    yield server
    server.stop()


@pytest.fixture
def client(read_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the read server."""
    with httpx.Client(base_url=read_server.url, timeout=30) as http:
        yield http
