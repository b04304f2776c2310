"""The demo article page, rendered by the server and finished by a real headless Chromium."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_OUTPUT, LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)",
)
PAGE = "/demo/articles/sample-002"


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a private profile and no background traffic."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            # Virtual time runs until the page is idle, so fetch() has answered by then.
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def box_titles(dom: str, box: str) -> list[str]:
    """The item titles inside the list ``data-list=box`` of a rendered page."""
    match = re.search(rf'<ol class="items" data-list="{box}">(.*?)</ol>', dom, re.S)
    assert match, f"no {box} box in the page"
    return [html.unescape(t) for t in re.findall(r'<a class="title"[^>]*>(.*?)</a>', match[1])]


def test_demo_page_renders_headline_date_and_body(client: httpx.Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Lanthorn Bridge closed after engineers find cracks in main span</h1>" in page
    assert '<time datetime="2026-09-02T07:15:00+00:00">2 September 2026' in page
    assert "City engineer Helen Marsh" in page


def test_demo_page_of_an_unknown_article_is_404(client: httpx.Client) -> None:
    response = client.get("/demo/articles/no-such-article")
    assert response.status_code == 404
    assert "no-such-article" in response.text


@needs_chromium
def test_browser_fills_the_three_boxes_from_the_api(
    read_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    # render=browser: the boxes are left to the widget script (by default the server fills them)
    result = chromium(tmp_path, "--dump-dom", read_server.url + PAGE + "?render=browser")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<body data-loaded="true">' in dom
    api = client.get("/articles/sample-002/related").json()
    assert box_titles(dom, "more_like_this") == [i["title"] for i in api["more_like_this"]]
    assert box_titles(dom, "related") == [i["title"] for i in api["related"]]
    # The gate lets in only what is related: under this article, fewer than five.
    assert 1 <= len(box_titles(dom, "related")) <= 5
    assert box_titles(dom, "popular") == [i["title"] for i in api["popular"]]


@needs_chromium
def test_browser_screenshot_of_the_demo_page(read_server: LiveServer, tmp_path: Path) -> None:
    out = TEST_OUTPUT / "service"
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "demo-article-page.png"
    shot.unlink(missing_ok=True)
    result = chromium(
        tmp_path,
        "--hide-scrollbars",
        "--window-size=1280,1400",
        f"--screenshot={shot}",
        read_server.url + PAGE,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
