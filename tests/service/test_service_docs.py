"""``/docs`` and ``/redoc`` work with no internet: their scripts come from this server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from service.docs_assets import DOCS_ASSETS, DOCS_ASSETS_URL
from tests.conftest import TEST_OUTPUT, LiveServer
from tests.service.test_service_demo import chromium, needs_chromium

# Every host name fails to resolve: a page that needs anything but 127.0.0.1 breaks.
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def page_links(page: str) -> list[str]:
    """The URLs a page's tags load (src= and href=)."""
    return re.findall(r'(?:src|href)="([^"]*)"', page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_from_this_server(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    links = page_links(response.text)
    assert links, "the page loads no script"
    assert all(link.startswith(DOCS_ASSETS_URL + "/") for link in links), links
    assert "//" not in "".join(links)
    assert "fonts.googleapis" not in response.text


@pytest.mark.parametrize("name", DOCS_ASSETS)
def test_docs_assets_are_served_from_the_installed_package(client: httpx.Client, name: str) -> None:
    response = client.get(f"{DOCS_ASSETS_URL}/{name}")
    assert response.status_code == 200
    assert len(response.content) > 1_000


def test_swagger_ui_oauth2_redirect_page_is_served(client: httpx.Client) -> None:
    response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "oauth2" in response.text.lower()


def test_docs_pages_are_not_in_the_openapi_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)


@needs_chromium
def test_browser_lists_the_operations_on_docs_with_the_network_off(
    read_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    result = chromium(tmp_path, NO_NETWORK, "--dump-dom", read_server.url + "/docs")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    operations = re.findall(r'class="opblock opblock-(get|post|put|delete)', dom)
    documented = sum(len(ops) for ops in client.get("/openapi.json").json()["paths"].values())
    assert len(operations) == documented
    assert 'data-path="/articles/{article_id}/related"' in dom


@needs_chromium
def test_browser_renders_redoc_with_the_network_off(
    read_server: LiveServer, tmp_path: Path
) -> None:
    result = chromium(tmp_path, NO_NETWORK, "--dump-dom", read_server.url + "/redoc")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "/articles/{article_id}/related" in dom
    assert "More like this, Related and Popular for one published article" in dom


@needs_chromium
def test_browser_screenshot_of_docs_with_the_network_off(
    read_server: LiveServer, tmp_path: Path
) -> None:
    out = TEST_OUTPUT / "service"
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "docs-offline.png"
    shot.unlink(missing_ok=True)
    result = chromium(
        tmp_path,
        NO_NETWORK,
        "--hide-scrollbars",
        "--window-size=1280,1600",
        f"--screenshot={shot}",
        read_server.url + "/docs",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 30_000  # the rendered operations, not a blank page
