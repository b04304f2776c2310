"""A hostile article cannot run script in a reader's browser.

Ingest accepts only ``http`` and ``https`` URLs. An article that got a ``javascript:`` URL and
markup in its title into the catalogue anyway (written before that rule, or by hand) is shown
on the demo page with the link left out and the markup as text, under a Content-Security-Policy
that would block inline script had anything slipped through; Debian's headless Chromium
renders the page and the script must not have run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index import Catalogue, WriterLock
from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from service.headers import DEMO_CSP
from tests.conftest import LiveServer, make_settings
from tests.service.servers import copy_home, start
from tests.service.test_service_demo import chromium, needs_chromium

HOSTILE_ID = "hostile-001"
PWN = "document.body.dataset.pwned='yes'"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative/path",
        "https:///no-host",
        "ftp://files.example/a",
    ],
)
def test_ingest_refuses_a_url_that_is_not_http_or_https(url: str) -> None:
    with pytest.raises(InvalidArticle, match=r"url: .* not an absolute http or https URL"):
        article_from_mapping({"id": "a", "title": "T", "url": url})


@pytest.mark.parametrize("url", ["https://news.example/a?b=1#c", "HTTP://news.example/"])
def test_ingest_keeps_http_and_https_urls(url: str) -> None:
    assert article_from_mapping({"id": "a", "title": "T", "url": url}).url == url


@pytest.fixture(scope="module")
def hostile_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("hostile"))
    settings = make_settings(home)
    with WriterLock(home), Catalogue(settings.catalogue_path) as catalogue:
        source = catalogue.get("sample-002")
        assert source is not None
        _, vectors = catalogue.vectors([source.doc_id])
        record = dataclasses.replace(
            source,
            id=HOSTILE_ID,
            title=f'Bridge <img src=x onerror="{PWN}"><script>{PWN}</script>',
            url=f"javascript:{PWN}",
        )
        catalogue.upsert([record], {HOSTILE_ID: vectors[0]})
    server = start(home)
    yield server
    server.stop()


def test_the_demo_page_leaves_out_a_javascript_link_and_escapes_markup(
    hostile_server: LiveServer,
) -> None:
    page = httpx.get(f"{hostile_server.url}/demo/articles/{HOSTILE_ID}", timeout=30)
    assert page.status_code == 200
    assert "javascript:" not in page.text
    assert "<script>document" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;" in page.text


def test_pages_and_answers_carry_csp_nosniff_and_frame_headers(
    hostile_server: LiveServer,
) -> None:
    page = httpx.get(f"{hostile_server.url}/demo/articles/{HOSTILE_ID}", timeout=30)
    assert page.headers["content-security-policy"] == DEMO_CSP
    assert "script-src 'self'" in DEMO_CSP and "frame-ancestors 'none'" in DEMO_CSP
    for response in (page, httpx.get(f"{hostile_server.url}/articles/sample-002/related")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


@needs_chromium
def test_a_browser_runs_no_script_of_a_hostile_article(
    hostile_server: LiveServer, tmp_path: Path
) -> None:
    result = chromium(tmp_path, "--dump-dom", f"{hostile_server.url}/demo/articles/{HOSTILE_ID}")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # The page's own script still works under the policy, and the hostile one never ran.
    assert 'data-loaded="true"' in dom
    assert "pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "javascript:" not in dom
