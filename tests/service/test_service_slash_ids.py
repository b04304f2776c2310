"""Every id that ingest accepts is reachable over HTTP, '/' included; ids are refused, never
rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from tests.conftest import LiveServer
from tests.service.servers import WRITE_KEY, copy_home, start


@pytest.mark.parametrize(
    "article_id",
    [" a", "a ", ".", "..", "a/./b", "a/../b", "a//b", "/a", "a/", "2024/05/related"],
)
def test_an_id_that_a_url_would_change_is_refused(article_id: str) -> None:
    with pytest.raises(InvalidArticle, match=r"^id: "):
        article_from_mapping({"id": article_id, "title": "T"})


@pytest.mark.parametrize("article_id", ["2024/05/story", "related", "a%zz", "a.b", "..a"])
def test_ids_are_stored_exactly_as_given(article_id: str) -> None:
    assert article_from_mapping({"id": article_id, "title": "T"}).id == article_id


@pytest.fixture(scope="module")
def api(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("slash-ids"))
    server: LiveServer = start(home, {"NEWSREC_API_KEY": WRITE_KEY})
    with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": WRITE_KEY}) as http:
        yield http
    server.stop()


@pytest.mark.parametrize("article_id", ["2024/05/bridge-story", "a%zz", "café/über"])
def test_an_id_with_slashes_or_escapes_is_reachable_raw_and_encoded(
    api: httpx.Client, article_id: str
) -> None:
    body = {"title": "Lanthorn Bridge reopens to traffic", "body": "The bridge reopened."}
    raw, encoded = quote(article_id, safe="/"), quote(article_id, safe="")
    assert api.put(f"/articles/{encoded}", json=body).status_code == 201
    for path in (raw, encoded):
        got = api.get(f"/articles/{path}")
        assert got.status_code == 200, (path, got.text)
        assert got.json()["id"] == article_id
        lists = api.get(f"/articles/{path}/related")
        assert lists.status_code == 200, (path, lists.text)
        assert lists.json()["article"]["id"] == article_id
        assert api.get(f"/demo/articles/{path}").status_code == 200
    assert api.put(f"/articles/{raw}", json=body).json()["result"] == "unchanged"
    assert api.delete(f"/articles/{raw}").status_code == 200
    assert api.get(f"/articles/{encoded}").status_code == 404


def test_an_id_sent_with_a_trailing_space_is_refused_not_trimmed(api: httpx.Client) -> None:
    put = api.put("/articles/trailing%20", json={"title": "T"})
    assert put.status_code == 422, put.text
    assert api.get("/articles/trailing").status_code == 404
