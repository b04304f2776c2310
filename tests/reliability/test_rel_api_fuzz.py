"""Hostile input through every HTTP route: schemathesis over the whole OpenAPI schema of a real
``newsrec serve``, plus bodies and list sizes far beyond the limits.

No answer may be a 5xx, and every answer must match the schema: a documented status code,
content type, headers and body. The run is bounded (a few examples per operation) so that it
takes well under a minute; ``NEWSREC_FUZZ_EXAMPLES`` raises the count for a longer run by hand.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from recommender.settings import Settings
from service.app import create_app
from tests.conftest import LiveServer

API_KEY = "reliability-fuzz-key-7f3a"
EXAMPLES = int(os.environ.get("NEWSREC_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with a write key over a private copy of the sample (the fuzzing writes)."""
    home = tmp_path_factory.mktemp("fuzzed") / "home"
    shutil.copytree(sample_home_template, home)
    server = LiveServer(home, {"NEWSREC_API_KEY": API_KEY})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: LiveServer) -> schemathesis.BaseSchema:
    """The OpenAPI schema the running server publishes."""
    return schemathesis.openapi.from_url(fuzzed_server.url + "/openapi.json")


def _operations() -> list[tuple[str, str, schemathesis.GenerationMode]]:
    # The operations are listed from the app itself, at collection time, so that each gets a
    # test of its own (schemathesis' lazy pytest loader does not work with this pytest).
    # Input that breaks the schema (negative) only exists for operations that take input.
    paths = create_app(Settings(home=Path("never-opened"))).openapi()["paths"]
    return [
        (method.upper(), path, mode)
        for path, methods in paths.items()
        for method, spec in methods.items()
        for mode in schemathesis.GenerationMode
        if mode is schemathesis.GenerationMode.POSITIVE
        or spec.get("parameters")
        or spec.get("requestBody")
    ]


@pytest.mark.parametrize(("method", "path", "mode"), _operations(), ids=lambda v: str(v))
def test_no_route_answers_5xx_or_off_its_schema(
    api_schema: schemathesis.BaseSchema,
    method: str,
    path: str,
    mode: schemathesis.GenerationMode,
    ledger: Counter[str],
) -> None:
    """Valid input (positive) and input that breaks the schema (negative), on every route."""
    operation = api_schema[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers={"X-API-Key": API_KEY}, timeout=30)
        ledger["inputs: schemathesis requests"] += 1
        if response.status_code >= 500:
            ledger["lost: 5xx answers"] += 1
        case.validate_response(response, checks=CHECKS)

    call()


@pytest.fixture
def http(fuzzed_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzzed_server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/articles:batch"), ("PUT", "/articles/huge"), ("POST", "/events")],
)
def test_a_body_over_the_limit_is_refused_with_413_naming_the_limit(
    http: httpx.Client, method: str, path: str
) -> None:
    body = b'{"articles": ["' + b"x" * (3 << 20) + b'"]}'
    response = http.request(
        method,
        path,
        content=body,
        headers={"X-API-Key": API_KEY, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "limit is 1048576 bytes" in response.json()["detail"]


def test_a_chunked_body_over_the_limit_is_refused_with_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        yield b'{"articles": ["'
        for _ in range(48):
            yield b"x" * 65_536
        yield b'"]}'

    response = http.post(
        "/articles:batch",
        content=chunks(),
        headers={"X-API-Key": API_KEY, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("k", ["51", "1000000", "99999999999999999999999999", "-1", "1e9", "NaN"])
def test_a_list_size_out_of_range_is_refused_with_422(http: httpx.Client, k: str) -> None:
    response = http.get(f"/articles/sample-001/related?k={k}")
    assert response.status_code == 422
    assert "k" in response.text


def test_a_huge_k_in_a_draft_request_is_refused_with_422(http: httpx.Client) -> None:
    response = http.post("/related", json={"text": "Harbour storm", "k_more": 10**12})
    assert response.status_code == 422
    assert "k_more" in response.text
