"""Article metadata over HTTP against a real server: ``author``, ``kind`` and ``fields`` are
written by PUT, shown by every article answer, filter the lists (``author=``, ``kind=``,
``tag=``, ``field.NAME=``), and a filter value that no article has is a 422 naming the known
ones (a section or language typo too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from recommender.cli import app
from tests.conftest import LiveServer
from tests.service.servers import WRITE_KEY, copy_home, start

WRITE = {"X-API-Key": WRITE_KEY}
# A server of its own, with the model loaded for writes: over 5 s to start, the slow tier. The
# typos of a section or language are checked on the shared read server, in the fast tier.
SLOW = pytest.mark.slow

# Three follow-ups of the sample's bridge story, filed differently, so that each filter can
# be seen keeping one of them in the lists of the bridge article (sample-002) and not another.
BRIDGE = {
    "section": "politics",
    "language": "en",
    "published_at": "2026-10-09T08:00:00Z",
    "tags": ["lanthorn bridge"],
}
ARTICLES: dict[str, dict[str, Any]] = {
    "meta-news": {
        **BRIDGE,
        "title": "Lanthorn Bridge reopens to buses after girder repairs",
        "body": "Buses crossed Lanthorn Bridge on Monday for the first time since engineers "
        "found cracks in its girders; cars must wait until spring.",
        "author": "Helen Marsh",
        "kind": "News",
        "fields": {"desk": "Metro", "premium": False, "words": 420},
    },
    "meta-opinion": {
        **BRIDGE,
        "title": "Opinion: the Lanthorn Bridge repairs show the city must plan ahead",
        "body": "The cracks in Lanthorn Bridge's girders were found late; the council should "
        "inspect every bridge in Harborview before the next closure.",
        "author": "Tom Okafor",
        "kind": "opinion",
        "fields": {"desk": "comment", "premium": True},
    },
    "meta-video": {
        **BRIDGE,
        "title": "Video: first buses cross the repaired Lanthorn Bridge",
        "body": "Watch the first buses cross Lanthorn Bridge into the Old Town after weeks "
        "of emergency repairs to its cracked girders.",
        "kind": "video",
        "tags": ["lanthorn bridge", "video"],
    },
}


@pytest.fixture(scope="module")
def server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("metadata-server"))
    live = start(home, {"NEWSREC_API_KEY": WRITE_KEY})
    with httpx.Client(base_url=live.url, timeout=60) as http:
        for article_id, article in ARTICLES.items():
            written = http.put(f"/articles/{article_id}", json=article, headers=WRITE)
            assert written.status_code in (200, 201), written.text
    yield live
    live.stop()


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def listed(api: httpx.Client, params: dict[str, Any] | list[tuple[str, str]]) -> set[str]:
    response = api.get("/articles/sample-002/related", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return {i["id"] for i in body["more_like_this"] + body["related"] + body["popular"]}


@SLOW
def test_an_article_answers_with_its_author_kind_and_fields(api: httpx.Client) -> None:
    body = api.get("/articles/meta-news").json()
    assert (body["author"], body["kind"], body["fields"]) == (
        "Helen Marsh",
        "news",  # a kind is one lower-case word
        {"desk": "Metro", "premium": False, "words": 420},
    )


@SLOW
def test_an_article_without_metadata_answers_with_empty_metadata(api: httpx.Client) -> None:
    body = api.get("/articles/sample-001").json()
    assert (body["author"], body["kind"], body["fields"]) == (None, None, {})


@SLOW
def test_list_items_carry_the_metadata(api: httpx.Client) -> None:
    body = api.get("/articles/sample-002/related", params={"kind": "opinion", "k": 10}).json()
    items = body["more_like_this"] + body["related"]
    assert items and all(i["kind"] == "opinion" for i in items)
    assert items[0]["author"] == "Tom Okafor"


@SLOW
@pytest.mark.parametrize(
    ("params", "kept", "left_out"),
    [
        ({"kind": "news"}, "meta-news", "meta-opinion"),
        ({"kind": "OPINION"}, "meta-opinion", "meta-video"),
        ({"author": "helen marsh"}, "meta-news", "meta-opinion"),
        ({"tag": "video"}, "meta-video", "meta-news"),
        ({"field.desk": "metro"}, "meta-news", "meta-opinion"),
        ({"field.premium": "true"}, "meta-opinion", "meta-news"),
        ({"field": "words=420"}, "meta-news", "meta-video"),
    ],
    ids=lambda v: str(v),
)
def test_a_metadata_filter_keeps_only_the_articles_that_carry_it(
    api: httpx.Client, params: dict[str, str], kept: str, left_out: str
) -> None:
    found = listed(api, {**params, "k": 20})
    assert kept in found and left_out not in found


@SLOW
def test_values_of_one_filter_are_alternatives(api: httpx.Client) -> None:
    found = listed(api, [("kind", "news"), ("kind", "video"), ("k", "20")])
    assert {"meta-news", "meta-video"} <= found and "meta-opinion" not in found


@SLOW
def test_a_post_body_filters_by_fields_too(api: httpx.Client) -> None:
    response = api.post(
        "/related",
        json={"text": "Lanthorn Bridge repairs", "field": ["desk=comment"], "k": 10},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {i["id"] for i in body["more_like_this"] + body["related"]} == {"meta-opinion"}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"section": "sprot"}, "unknown section 'sprot' (did you mean 'sport'?); the sections are"),
        ({"exclude_section": "sprot"}, "unknown section 'sprot'"),
        ({"language": "fr"}, "unknown language 'fr'; the languages are: de, en"),
        ({"kind": "news"}, "unknown kind 'news': no published article has any kinds"),
    ],
    ids=lambda v: str(v),
)
def test_a_section_or_language_no_article_has_is_422_naming_the_known_ones(
    client: httpx.Client, params: dict[str, str], detail: str
) -> None:
    response = client.get("/articles/sample-002/related", params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"][0]["msg"]


def test_a_section_typo_lists_every_section_of_the_sample(client: httpx.Client) -> None:
    response = client.get("/articles/sample-002/related", params={"section": "sprot"})
    message = response.json()["detail"][0]["msg"]
    assert message.endswith(
        "the sections are: business, culture, politics, science, sport, weather"
    )


@SLOW
@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"kind": "opinon"}, "unknown kind 'opinon' (did you mean 'opinion'?)"),
        ({"field.dsk": "metro"}, "unknown field 'dsk' (did you mean 'desk'?)"),
        ({"field.desk": "metor"}, "(did you mean 'metro'?)"),
    ],
    ids=lambda v: str(v),
)
def test_a_metadata_value_no_article_has_is_422_naming_the_known_ones(
    api: httpx.Client, params: dict[str, str], detail: str
) -> None:
    response = api.get("/articles/sample-002/related", params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"][0]["msg"]


@SLOW
def test_invalid_metadata_is_422_and_writes_nothing(api: httpx.Client) -> None:
    for bad in (
        {"kind": "op ed"},
        {"fields": {"Desk": "metro"}},
        {"fields": {"desk": ["metro"]}},
        {"fields": {f"f{i}": i for i in range(21)}},
    ):
        response = api.put("/articles/meta-bad", json={"title": "A bad one", **bad}, headers=WRITE)
        assert response.status_code == 422, bad
    assert api.get("/articles/meta-bad").status_code == 404


def test_the_command_line_asking_a_service_gets_the_refusal_in_one_line(
    read_server: LiveServer, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["related", "sample-002", "--server", read_server.url, "--section", "sprot"],
        env={"NEWSREC_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "unknown section 'sprot' (did you mean 'sport'?)" in result.output
