"""Answers as the OpenAPI schema states them: unparsable bodies, methods a path lacks, and
read routes open when no read key is configured (found by schemathesis' conformance checks)."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"ids": ["\xff"]}', "the body is not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "the body's JSON is nested too deeply"),
        (
            b'{"ids": [' + b"1" * 5_000 + b"]}",
            "the body's JSON holds a number with too many digits",
        ),
    ],
    ids=["not-utf8", "too-deep", "too-many-digits"],
)
def test_an_unparsable_body_is_422_with_its_real_reason(
    client: httpx.Client, body: bytes, reason: str
) -> None:
    response = client.post("/related", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body"], "msg": reason, "type": "json_invalid"}]


def test_a_method_a_path_lacks_is_405_naming_every_method_it_has(client: httpx.Client) -> None:
    response = client.request("OPTIONS", "/articles/sample-001")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, DELETE"


def test_writing_to_an_articles_lists_is_405_not_an_article_write(client: httpx.Client) -> None:
    for method in ("PUT", "DELETE"):
        response = client.request(method, "/articles/sample-001/related")
        assert (response.status_code, response.headers["allow"]) == (405, "GET"), method


def test_the_schema_marks_the_key_of_read_routes_optional_when_no_read_key_is_set(
    client: httpx.Client,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {} in paths["/articles/{article_id}/related"]["get"]["security"]
    assert {} in paths["/related"]["post"]["security"]
    assert {} not in paths["/articles/{article_id}"]["put"]["security"]
    assert {} not in paths["/events"]["post"]["security"]


def test_an_id_with_a_line_break_reaches_the_route_not_a_bare_404(client: httpx.Client) -> None:
    response = client.get("/articles/line%0Abreak")
    assert response.status_code == 404
    assert response.json()["detail"] != "Not Found"
