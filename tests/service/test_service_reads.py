"""The read side of the HTTP API against a real server over the sample (no keys configured)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.service.servers import ALLOWED_ORIGIN, lists_only

RELATED = "/articles/sample-002/related"


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


def test_related_names_its_index_version_in_body_and_header(client: httpx.Client) -> None:
    response = client.get(RELATED)
    assert response.status_code == 200
    assert re.fullmatch(r"v\d{6}(\+\d+)?", response.json()["index_version"])
    assert response.headers["X-Index-Version"] == response.json()["index_version"]


def test_related_k_sets_both_list_lengths(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 3}).json()
    assert (len(body["more_like_this"]), len(body["related"])) == (3, 3)


def test_k_more_and_k_related_override_k(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 3, "k_more": 0, "k_related": 7}).json()
    assert (len(body["more_like_this"]), len(body["related"])) == (0, 7)


def test_k_outside_1_to_50_is_422_naming_k(client: httpx.Client) -> None:
    for k in (0, 51):
        response = client.get(RELATED, params={"k": k})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "k"]


def test_unknown_article_is_404_naming_it(client: httpx.Client) -> None:
    response = client.get("/articles/no-such-article/related")
    assert response.status_code == 404
    assert "no-such-article" in response.json()["detail"]


def test_section_filter_keeps_only_that_section(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 10, "section": "business"}).json()
    items = body["more_like_this"] + body["related"]
    assert items and {item["section"] for item in items} == {"business"}


def test_sections_may_be_given_with_commas(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 20, "section": "business,sport"}).json()
    sections = {item["section"] for item in body["more_like_this"] + body["related"]}
    assert sections == {"business", "sport"}


def test_exclude_section_removes_that_section(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 20, "exclude_section": "politics"}).json()
    items = body["more_like_this"] + body["related"]
    assert items and "politics" not in {item["section"] for item in items}


def test_language_filter_keeps_only_that_language(client: httpx.Client) -> None:
    # The sample has four German articles: sample-016, -040, -043 and -052.
    body = client.get(RELATED, params={"k": 10, "language": "de"}).json()
    items = body["more_like_this"] + body["related"]
    # Only German; not all four, since More like this lists none below its floor (the German
    # articles on other subjects than the bridge).
    assert items and {item["language"] for item in items} == {"de"}
    assert set(ids(items)) <= {"sample-016", "sample-040", "sample-043", "sample-052"}


def test_max_age_days_drops_older_articles(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 10, "max_age_days": 1}).json()
    oldest = datetime.now(UTC) - timedelta(days=1)
    for item in body["more_like_this"] + body["related"]:
        assert datetime.fromisoformat(item["published_at"]) >= oldest


def test_exclude_keeps_ids_out_of_both_lists(client: httpx.Client) -> None:
    first = client.get(RELATED, params={"k": 3}).json()
    shown = ids(first["more_like_this"])
    body = client.get(RELATED, params=[("k", "3"), *(("exclude", i) for i in shown)]).json()
    assert not set(shown) & set(ids(body["more_like_this"] + body["related"]))


def test_explain_parts_add_up_to_each_related_score(client: httpx.Client) -> None:
    body = client.get(RELATED, params={"k": 3, "explain": "true"}).json()
    for item in body["related"]:
        parts = item["explanation"]["parts"]
        assert abs(sum(parts.values()) - item["score"]) < 1e-4


def test_weight_overrides_reach_the_score(client: httpx.Client) -> None:
    body = client.get(
        RELATED, params={"k": 5, "w_sim": 0, "w_rec": 0, "w_pop": 1, "explain": "true"}
    ).json()
    for item in body["related"]:
        parts = item["explanation"]["parts"]
        # A signal weighed 0 adds no part; popularity is the whole score.
        assert "similarity" not in parts and "recency" not in parts
        assert parts["popularity"] > 0


def test_all_weights_zero_is_422(client: httpx.Client) -> None:
    response = client.get(RELATED, params={"w_sim": 0, "w_rec": 0, "w_pop": 0, "w_coread": 0})
    assert response.status_code == 422
    assert "w_sim" in response.json()["detail"][0]["msg"]


def test_get_article_returns_it_in_full(client: httpx.Client) -> None:
    response = client.get("/articles/sample-002")
    body = response.json()
    assert response.status_code == 200
    assert body["title"].startswith("Lanthorn Bridge closed")
    assert len(body["body"]) > len(body["snippet"])
    assert response.headers["X-Index-Version"] == body["index_version"]


def test_get_unknown_article_is_404(client: httpx.Client) -> None:
    assert client.get("/articles/no-such-article").status_code == 404


def test_post_related_with_draft_text_finds_its_story(client: httpx.Client) -> None:
    draft = {"text": "Lanthorn Bridge repairs: council argues over the bill", "k": 3}
    body = client.post("/related", json=draft).json()
    assert body["article"] is None
    assert "Lanthorn Bridge" in body["more_like_this"][0]["title"]


def test_post_related_with_ids_leaves_those_articles_out(client: httpx.Client) -> None:
    reads = ["sample-002", "sample-014"]
    body = client.post("/related", json={"ids": reads, "k": 5}).json()
    shown = ids(body["more_like_this"] + body["related"] + body["popular"])
    assert len(body["more_like_this"]) == 5 and not set(reads) & set(shown)
    assert len(body["related"]) == 5 or "related" in body["short"]


def test_post_related_needs_exactly_one_of_text_or_ids(client: httpx.Client) -> None:
    both = client.post("/related", json={"text": "bridge", "ids": ["sample-002"]})
    neither = client.post("/related", json={"k": 3})
    assert (both.status_code, neither.status_code) == (422, 422)
    assert "exactly one" in both.json()["detail"][0]["msg"]


def test_post_related_with_an_unknown_id_is_404(client: httpx.Client) -> None:
    response = client.post("/related", json={"ids": ["sample-002", "gone-999"]})
    assert response.status_code == 404
    assert "gone-999" in response.json()["detail"]


def test_post_related_with_too_many_ids_is_422_naming_the_limit(client: httpx.Client) -> None:
    response = client.post("/related", json={"ids": [f"sample-{i:03d}" for i in range(1, 52)]})
    assert response.status_code == 422
    assert "at most 50" in response.json()["detail"][0]["msg"]


def test_repeated_request_is_answered_from_the_cache(client: httpx.Client) -> None:
    params = {"k": 4, "section": "politics"}
    first = client.get("/articles/sample-031/related", params=params)
    second = client.get("/articles/sample-031/related", params=params)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert lists_only(first.json()) == lists_only(second.json())
    # Each served answer is named apart, the cached one too: a click names the view it saw.
    assert first.json()["recommendation_id"] != second.json()["recommendation_id"]


def test_cache_key_holds_every_parameter(client: httpx.Client) -> None:
    client.get("/articles/sample-033/related", params={"k": 4})
    other = client.get("/articles/sample-033/related", params={"k": 4, "explain": "true"})
    assert other.headers["X-Cache"] == "miss"
    assert "explanation" in other.json()["related"][0]


def test_request_id_is_echoed(client: httpx.Client) -> None:
    rid = f"test-{uuid.uuid4().hex}"
    response = client.get("/livez", headers={"X-Request-ID": rid})
    assert response.headers["X-Request-ID"] == rid


def test_request_id_that_is_not_a_plain_token_is_replaced(client: httpx.Client) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_readyz_reports_the_loaded_index(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["indexed"]) == ("ready", 80)


def test_write_routes_are_refused_when_no_key_is_configured(client: httpx.Client) -> None:
    responses = [
        client.put("/articles/x-1", json={"title": "t"}, headers={"X-API-Key": "anything"}),
        client.delete("/articles/sample-001"),
        client.post("/articles:batch", json={"articles": [{"id": "x-1", "title": "t"}]}),
        client.post("/events", json={"events": [{"article_id": "sample-001", "kind": "view"}]}),
        client.post("/admin/reindex"),
    ]
    for response in responses:
        assert response.status_code == 403
        assert "NEWSREC_API_KEY" in response.json()["detail"]
    assert client.get("/articles/sample-001").status_code == 200  # nothing was unpublished


def test_body_over_the_limit_is_413_naming_the_limit(client: httpx.Client) -> None:
    big = b'{"text": "' + b"a" * 1_100_000 + b'"}'
    response = client.post("/related", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["detail"]


def test_chunked_body_over_the_limit_is_413(client: httpx.Client) -> None:
    def chunks() -> object:
        yield b'{"text": "'
        for _ in range(20):
            yield b"a" * 60_000
        yield b'"}'

    response = client.post(
        "/related", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_cors_allows_the_configured_origin(client: httpx.Client) -> None:
    response = client.options(
        RELATED,
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert response.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN


def test_cors_ignores_other_origins(client: httpx.Client) -> None:
    response = client.get(RELATED, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def sample_value(text: str, name: str, labels: str) -> float:
    """The value of one sample of a Prometheus exposition, e.g. ``name{labels} 3.0``."""
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{{{labels}}} in:\n{text}")


def test_metrics_have_latency_by_route_template_and_status(client: httpx.Client) -> None:
    route = "/articles/{article_id}/related"
    text = client.get("/metrics").text
    before = {
        status: sample_value(
            text,
            "newsrec_http_request_duration_seconds_count",
            f'method="GET",route="{route}",status="{status}"',
        )
        if f'route="{route}",status="{status}"' in text
        else 0.0
        for status in ("200", "404")
    }
    client.get("/articles/sample-005/related")
    client.get("/articles/no-such-article/related")
    text = client.get("/metrics").text
    for status in ("200", "404"):
        count = sample_value(
            text,
            "newsrec_http_request_duration_seconds_count",
            f'method="GET",route="{route}",status="{status}"',
        )
        assert count == before[status] + 1


def test_metrics_report_index_size_version_and_age(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    assert sample_value(text, "newsrec_index_articles", "") == 80
    assert sample_value(text, "newsrec_index_version", "") == 1
    assert 0 < sample_value(text, "newsrec_index_age_seconds", "") < 24 * 3600


def test_metrics_name_the_embedding_path(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("newsrec_embedding_info{"))
    assert 'backend="' in line and line.endswith(" 1.0")


def test_openapi_documents_every_route_with_examples(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [
        ("/articles/{article_id}/related", "get"),
        ("/related", "post"),
        ("/articles/{article_id}", "get"),
        ("/articles/{article_id}", "put"),
        ("/articles/{article_id}", "delete"),
        ("/articles:batch", "post"),
        ("/events", "post"),
        ("/livez", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ]:
        assert method in paths[path], (path, method)
    components = schema["components"]["schemas"]
    for model in ("RelatedIn", "ArticleIn", "BatchIn", "EventsIn", "RelatedOut"):
        assert components[model].get("examples"), model
    assert "APIKeyHeader" in schema["components"]["securitySchemes"]
