"""Secrets and access: the API key never shows in logs, errors or metrics; write routes are
closed without a key; path parameters cannot reach files outside the home directory."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recommender.settings import Settings
from tests.conftest import LiveServer
from tests.reliability.support import invoke_newsrec

API_KEY = "sEcReT-4f1c9e2b7d-NEWSREC"
WRONG_KEY = "nOtThEkEy-88a1b0c3d5-NEWSREC"
WRITES = [
    ("PUT", "/articles/secret-test", {"title": "A new article"}),
    ("POST", "/articles:batch", {"articles": [{"id": "secret-b", "title": "Batch article"}]}),
    ("DELETE", "/articles/sample-001", None),
    ("POST", "/events", {"events": [{"article_id": "sample-001", "kind": "view"}]}),
    ("POST", "/admin/reindex", None),
]
TRAVERSALS = [
    "/articles/..%2F..%2F..%2F..%2Fetc%2Fpasswd/related",
    "/articles/%2E%2E%2F%2E%2E%2Fcatalogue.sqlite",
    "/articles/..%5C..%5Ccatalogue.sqlite/related",
    "/demo/articles/..%2F..%2F..%2Fetc%2Fpasswd",
    "/demo/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/demo/assets/..%2Fapp.py",
    "/demo/assets/%2Fetc%2Fpasswd",
    "/../../../../etc/passwd",
    "/articles/sample-001/../../../../etc/passwd",
]
FILE_MARKERS = ("root:x:0:0", "SQLite format 3", "def create_app")


def _server(home_template: Path, workdir: Path, env: dict[str, str]) -> LiveServer:
    home = workdir / "home"
    shutil.copytree(home_template, home)
    server = LiveServer(home, env)
    server.wait_ready()
    return server


@pytest.fixture(scope="module")
def keyed_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with a write key (its tests may write)."""
    workdir = tmp_path_factory.mktemp("keyed")
    server = _server(sample_home_template, workdir, {"NEWSREC_API_KEY": API_KEY})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def keyless_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with no key configured."""
    server = _server(sample_home_template, tmp_path_factory.mktemp("keyless"), {})
    try:
        yield server
    finally:
        server.stop()


def test_the_key_never_appears_in_answers_metrics_or_logs(
    keyed_server: LiveServer, ledger: Counter[str]
) -> None:
    seen: list[str] = []
    with httpx.Client(base_url=keyed_server.url, timeout=60) as http:
        for key in (API_KEY, WRONG_KEY, None):
            headers = {"X-API-Key": key} if key else {}
            for method, path, body in WRITES:
                response = http.request(method, path, json=body, headers=headers)
                seen.append(f"{response.status_code} {response.headers} {response.text}")
            for bad in ({"title": ""}, {"nonsense": API_KEY}, "not an object"):
                response = http.put("/articles/x", json=bad, headers=headers)
                seen.append(f"{response.status_code} {response.headers} {response.text}")
            response = http.get("/articles/no-such-id/related", headers=headers)
            seen.append(f"{response.status_code} {response.text}")
        seen.append(http.get("/metrics").text)
        seen.append(http.get("/readyz").text)
        seen.append(http.get("/openapi.json").text)
    time.sleep(0.5)  # the access log line of the last request
    log = keyed_server.log.read_text(errors="replace")
    ledger["inputs: requests probing for the key"] += len(seen)
    for text in [*seen, log]:
        assert API_KEY not in text
        assert WRONG_KEY not in text
    # The body that quoted the key back (in an unknown field) was refused without quoting it.
    assert any(status.startswith("422") for status in seen)


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=lambda v: str(v))
def test_a_write_route_is_refused_without_the_key(
    keyed_server: LiveServer, method: str, path: str, body: object
) -> None:
    with httpx.Client(base_url=keyed_server.url, timeout=60) as http:
        missing = http.request(method, path, json=body)
        wrong = http.request(method, path, json=body, headers={"X-API-Key": WRONG_KEY})
    assert (missing.status_code, wrong.status_code) == (401, 401)


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=lambda v: str(v))
def test_a_write_route_is_closed_when_no_key_is_configured(
    keyless_server: LiveServer, method: str, path: str, body: object
) -> None:
    with httpx.Client(base_url=keyless_server.url, timeout=60) as http:
        response = http.request(method, path, json=body, headers={"X-API-Key": WRONG_KEY})
        assert response.status_code == 403
        assert http.get("/articles/sample-001").status_code == 200  # nothing was deleted


def test_path_parameters_cannot_reach_files_outside_the_home(
    keyless_server: LiveServer, ledger: Counter[str]
) -> None:
    with httpx.Client(base_url=keyless_server.url, timeout=30) as http:
        for path in TRAVERSALS:
            response = http.get(path)
            ledger["inputs: path traversal attempts"] += 1
            assert response.status_code in (404, 422), (path, response.status_code)
            for marker in FILE_MARKERS:
                assert marker not in response.text, path


def test_settings_never_show_the_key() -> None:
    settings = Settings(api_key=API_KEY)  # type: ignore[arg-type]
    assert API_KEY not in repr(settings)
    assert API_KEY not in str(settings.model_dump())
    assert API_KEY not in settings.model_dump_json()


def test_a_refused_key_setting_is_not_echoed_in_the_error(sample_home: Path) -> None:
    short = "sh0rt-K3y"  # too short to be accepted
    result = invoke_newsrec("serve", "--home", sample_home, NEWSREC_API_KEY=short)
    assert result.returncode == 2
    assert "at least 12 characters" in result.stderr
    assert short not in result.stdout + result.stderr


def test_status_does_not_show_the_key(sample_home: Path) -> None:
    result = invoke_newsrec("status", "--json", "--home", sample_home, NEWSREC_API_KEY=API_KEY)
    assert result.returncode == 0, result.stderr
    assert API_KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (" padded-key-0123456789", "space"),
        ("padded-key-0123456789 ", "space"),
        ("clé-secrète-0123456789", "ASCII"),
        ("tab\tinside-0123456789", "ASCII"),
    ],
)
def test_a_key_no_client_could_send_is_refused_at_start_up(
    sample_home: Path, key: str, why: str
) -> None:
    result = invoke_newsrec("serve", "--home", sample_home, NEWSREC_API_KEY=key)
    assert result.returncode == 2
    assert "api_key" in result.stderr and why in result.stderr
    assert key.strip() not in result.stderr
