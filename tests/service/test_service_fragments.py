"""``GET /articles/{id}/related.html``: the three boxes as accessible HTML, from a real server,
and the demo page that uses them, in headless Chromium with JavaScript on and off."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from service.fragments import item_href, render_boxes
from tests.conftest import LiveServer
from tests.service.browser import dom_without_javascript
from tests.service.servers import WRITE_KEY, copy_home, start
from tests.service.test_service_demo import CHROMIUM, box_titles, chromium, needs_chromium

SOURCE = "sample-002"
FRAGMENT = f"/articles/{SOURCE}/related.html"
BOXES = {"more_like_this": "More like this", "related": "Related", "popular": "Popular"}


def box_links(dom: str, box: str) -> list[str]:
    """The hrefs of the item links inside the list ``data-list=box``."""
    match = re.search(rf'<ol class="items" data-list="{box}">(.*?)</ol>', dom, re.S)
    assert match, f"no {box} box"
    return [html.unescape(h) for h in re.findall(r'<a class="title" href="([^"]*)"', match[1])]


# --- rendering, by hand-made views ----------------------------------------------------------


def test_an_item_links_to_its_own_url() -> None:
    assert item_href({"id": "a", "url": "https://news.example/a?x=1"}) == (
        "https://news.example/a?x=1"
    )


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "/relative", "ftp://x/y"])
def test_an_item_without_a_web_url_links_to_its_page(url: str | None) -> None:
    assert item_href({"id": "2024/05/a b?", "url": url}) == "/demo/articles/2024/05/a%20b%3F"


def test_rendered_boxes_escape_catalogue_text() -> None:
    view = {
        "article": {"id": "s"},
        "index_version": "v1",
        "more_like_this": [
            {"id": "x", "title": "<script>alert(1)</script>", "url": 'https://n.example/"q'}
        ],
    }
    out = str(render_boxes(view))
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert 'href="https://n.example/&#34;q"' in out


def test_an_empty_list_has_no_box_and_headings_take_the_asked_level() -> None:
    view = {"article": {"id": "s"}, "related": [{"id": "r", "title": "R"}], "popular": []}
    out = str(render_boxes(view, level=3))
    assert re.findall(r"<h3 [^>]*>([^<]*)</h3>", out) == ["Related"]
    assert 'data-list="popular"' not in out and "<h2" not in out
    with pytest.raises(ValueError, match="heading level must be 2 to 6, got 7"):
        render_boxes(view, level=7)


# --- the route, on a real server ------------------------------------------------------------


def test_the_fragment_shows_the_json_answer_s_items_linked_to_their_urls(
    client: httpx.Client,
) -> None:
    page = client.get(FRAGMENT)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    api = client.get(f"/articles/{SOURCE}/related").json()
    for box in BOXES:
        assert api[box], f"the sample gives {SOURCE} a full {box} list"
        assert box_titles(page.text, box) == [i["title"] for i in api[box]]
        assert box_links(page.text, box) == [i["url"] for i in api[box]]
        assert all(link.startswith("https://") for link in box_links(page.text, box))


def test_each_box_is_a_section_named_by_its_heading(client: httpx.Client) -> None:
    page = client.get(FRAGMENT).text
    sections = re.findall(r'<section class="box" id="([^"]+)" aria-labelledby="([^"]+)">', page)
    assert [s for s, _ in sections] == [
        "newsrec-more-like-this",
        "newsrec-related",
        "newsrec-popular",
    ]
    headings = dict(re.findall(r'<h2 id="([^"]+)">([^<]+)</h2>', page))
    assert [headings[label] for _, label in sections] == list(BOXES.values())


def test_the_fragment_takes_the_json_route_s_options(client: httpx.Client) -> None:
    page = client.get(FRAGMENT, params={"lists": "related", "k": 2, "heading": 3}).text
    assert re.findall(r"<h3 [^>]*>([^<]*)</h3>", page) == ["Related"]
    assert len(box_titles(page, "related")) == 2
    assert 'data-list="popular"' not in page


def test_the_fragment_shares_the_json_cache_and_says_how_long_to_keep_it(
    client: httpx.Client,
) -> None:
    params = {"k": 3, "exclude": "sample-050"}  # options no other test asks for
    first = client.get(f"/articles/{SOURCE}/related", params=params)
    fragment = client.get(FRAGMENT, params=params)
    assert first.headers["x-cache"] == "miss"
    assert fragment.headers["x-cache"] == "hit"
    assert fragment.headers["x-index-version"] == first.headers["x-index-version"]
    assert fragment.headers["cache-control"] == first.headers["cache-control"]
    assert fragment.headers["etag"] == first.headers["etag"]
    again = client.get(FRAGMENT, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_bad_requests_get_the_json_route_s_errors(client: httpx.Client) -> None:
    unknown = client.get("/articles/no-such-article/related.html")
    assert unknown.status_code == 404
    assert "no-such-article" in unknown.json()["detail"]
    assert client.get(FRAGMENT, params={"k": 0}).status_code == 422
    assert client.get(FRAGMENT, params={"heading": 1}).status_code == 422


def test_an_id_ending_in_related_html_is_refused_at_ingest() -> None:
    refused = re.escape("not ending in '/related' or '/related.html'")
    with pytest.raises(InvalidArticle, match=refused):
        article_from_mapping({"id": "2024/05/related.html", "title": "T"})


@pytest.fixture(scope="module")
def writer(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("fragments-write"))
    server: LiveServer = start(home, {"NEWSREC_API_KEY": WRITE_KEY})
    with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": WRITE_KEY}) as http:
        yield http
    server.stop()


@pytest.mark.slow  # its own keyed server, which loads the model before it is ready
def test_an_id_with_slashes_has_its_fragment_and_an_article_without_url_links_to_its_page(
    writer: httpx.Client,
) -> None:
    article_id = "2026/09/bridge-reopens"
    body = {
        "title": "Lanthorn Bridge reopens after crack repairs to its main span",
        "body": "Engineers finished the repairs to the cracked main span of Lanthorn Bridge.",
    }
    assert writer.put(f"/articles/{article_id}", json=body).status_code == 201
    for path in (article_id, quote(article_id, safe="")):
        page = writer.get(f"/articles/{path}/related.html")
        assert page.status_code == 200, page.text
        assert f'data-article-id="{article_id}"' in page.text
    # The bridge story's first article now lists the new one, which has no url.
    page = writer.get("/articles/sample-002/related.html", params={"k": 10}).text
    links = re.findall(r'<a class="title" href="([^"]*)"', page)
    assert f"/demo/articles/{article_id}" in links


# --- the demo page in a browser -------------------------------------------------------------


@needs_chromium
def test_with_javascript_off_the_demo_page_shows_the_boxes_linked_to_urls(
    read_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    dom = dom_without_javascript(
        CHROMIUM, tmp_path / "profile", f"{read_server.url}/demo/articles/{SOURCE}"
    )
    assert '<body data-loaded="false">' in dom  # the script did not run
    api = client.get(f"/articles/{SOURCE}/related").json()
    for box in BOXES:
        assert box_titles(dom, box) == [i["title"] for i in api[box]]
        assert box_links(dom, box) == [i["url"] for i in api[box]]
    assert "Loading" not in dom


@needs_chromium
def test_with_javascript_on_the_server_rendered_boxes_stay_as_they_are(
    read_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    result = chromium(tmp_path, "--dump-dom", f"{read_server.url}/demo/articles/{SOURCE}")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<body data-loaded="true">' in dom
    api = client.get(f"/articles/{SOURCE}/related").json()
    for box in BOXES:
        assert box_titles(dom, box) == [i["title"] for i in api[box]]
        assert box_links(dom, box) == [i["url"] for i in api[box]]


@needs_chromium
def test_the_widget_script_links_the_items_to_their_urls(
    read_server: LiveServer, client: httpx.Client, tmp_path: Path
) -> None:
    page = f"{read_server.url}/demo/articles/{SOURCE}?render=browser"
    result = chromium(tmp_path, "--dump-dom", page)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<body data-loaded="true">' in dom
    api = client.get(f"/articles/{SOURCE}/related").json()
    for box in BOXES:
        assert box_links(dom, box) == [i["url"] for i in api[box]]
