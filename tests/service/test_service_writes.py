"""The write side, keys and freshness against a real server with both keys configured."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index import WriterLock
from tests.conftest import LiveServer
from tests.service.servers import READ_KEY, WRITE_KEY, copy_home, start

WRITE = {"X-API-Key": WRITE_KEY}
READ = {"X-API-Key": READ_KEY}


def article(title: str, body: str, section: str, day: int = 9) -> dict[str, Any]:
    """An article in the style of the sample, published in October 2026."""
    return {
        "title": title,
        "body": body,
        "section": section,
        "language": "en",
        "published_at": f"2026-10-{day:02d}T08:00:00Z",
    }


# Follow-ups of the sample's stories, one story per test so that tests do not crowd each
# other's lists (a list shows one article per story).
BRIDGE = article(
    "Lanthorn Bridge reopens to buses after emergency girder repairs",
    "Buses crossed Lanthorn Bridge into Harborview's Old Town on Monday for the first time "
    "since engineers found cracks in its main girders. City engineer Helen Marsh said the "
    "repaired span was safe for buses but would stay closed to cars until spring.",
    "politics",
)
BATTERY = article(
    "Saltcell's seaweed battery passes first year of grid storage trials",
    "The sodium battery with a seaweed-based anode developed by the Okafor lab at the "
    "University of Harborview has kept 96 percent of its capacity after a year of daily "
    "cycling in a Kestrel Water pumping station, Saltcell said.",
    "science",
)
REGATTA = article(
    "Marrow Regatta to add a women's coastal rowing race next year",
    "Organisers of the Marrow Regatta said the 151st edition will include a coastal rowing "
    "race for women's crews, after the storm-delayed 150th regatta drew record entries.",
    "sport",
)
CHOIR = article(
    "St Brendan's choir concert raises £12,000 for organ restoration",
    "The bicentenary concert of St Brendan's choir filled the church twice over, and the "
    "collection will pay for restoring the 1820 organ, the choirmaster said.",
    "culture",
)
FOG = article(
    "Kestrel Valley Airport to install new landing system before winter fog",
    "The airport will install an instrument landing system that lets aircraft land in dense "
    "fog, after a week of cancelled morning flights in October.",
    "business",
)
MARTEN = article(
    "Second pine marten caught on camera in Kestrel Forest",
    "Wildlife volunteers have photographed a second pine marten in Kestrel Forest, weeks "
    "after the first sighting in decades, raising hopes of a breeding population.",
    "science",
)
CHALICE = article(
    "Marrow Valley Museum chalice thieves jailed for four years",
    "Two men who stole the medieval silver chalice from the Marrow Valley Museum were "
    "jailed for four years at Harborview Crown Court on Thursday.",
    "culture",
)
CORRAN = article(
    "Former Corran Motors workers start jobs at Saltcell pilot line",
    "The first 40 former Corran Motors workers retrained at Kestrel College started work on "
    "Monday at Saltcell's battery pilot line in the old Eastfield plant.",
    "business",
)


@pytest.fixture(scope="module")
def write_home(sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(sample_home_template, tmp_path_factory.mktemp("write-server"))


@pytest.fixture(scope="module")
def write_server(write_home: Path) -> Iterator[LiveServer]:
    """A server with a write key and a read key; tests write to it under their own ids."""
    env = {
        "NEWSREC_API_KEY": WRITE_KEY,
        "NEWSREC_READ_KEY": READ_KEY,
        # Fold new events into popularity at every refresh, so tests need not wait for it.
        "NEWSREC_POPULARITY_REFRESH_SECONDS": "0",
        # Log counts move with every click; the default percentile moves only when an article
        # overtakes another, which 500 clicks on a sample article need not do.
        "NEWSREC_POPULARITY_NORMALISATION": "log",
    }
    server = start(write_home, env)
    yield server
    server.stop()


@pytest.fixture
def api(write_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=write_server.url, timeout=60) as http:
        yield http


def related_ids(api: httpx.Client, article_id: str, **params: Any) -> set[str]:
    body = api.get(f"/articles/{article_id}/related", params=params, headers=READ).json()
    return {item["id"] for item in body["more_like_this"] + body["related"]}


# --- keys ------------------------------------------------------------------------------------


def test_read_without_a_key_is_401_when_a_read_key_is_set(api: httpx.Client) -> None:
    response = api.get("/articles/sample-001/related")
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_read_with_the_read_key_or_the_write_key_is_allowed(api: httpx.Client) -> None:
    for headers in (READ, WRITE):
        assert api.get("/articles/sample-001/related", headers=headers).status_code == 200


def test_read_with_a_wrong_key_is_401(api: httpx.Client) -> None:
    response = api.get("/articles/sample-001", headers={"X-API-Key": "not-the-key-at-all"})
    assert response.status_code == 401


def test_write_without_a_key_is_401(api: httpx.Client) -> None:
    assert api.put("/articles/k-1", json={"title": "t"}).status_code == 401


def test_write_with_the_read_key_is_403(api: httpx.Client) -> None:
    response = api.put("/articles/k-1", json={"title": "t"}, headers=READ)
    assert response.status_code == 403
    assert "read key cannot write" in response.json()["detail"]


def test_write_with_a_wrong_key_is_401(api: httpx.Client) -> None:
    response = api.delete("/articles/sample-080", headers={"X-API-Key": WRITE_KEY + "x"})
    assert response.status_code == 401


def test_health_and_metrics_need_no_key(api: httpx.Client) -> None:
    for path in ("/livez", "/readyz", "/metrics"):
        assert api.get(path).status_code == 200


def test_keys_never_reach_the_log(api: httpx.Client, write_server: LiveServer) -> None:
    api.get("/articles/sample-001", headers=READ)
    api.put("/articles/k-2", json={"title": "t"}, headers={"X-API-Key": "guess-" + WRITE_KEY})
    deadline = time.monotonic() + 5.0  # access lines are written in batches
    while '"PUT /articles/k-2 401"' not in (log := write_server.log.read_text()):
        assert time.monotonic() < deadline, "no access line for the refused write"
        time.sleep(0.05)
    assert "request_id" in log
    assert WRITE_KEY not in log and READ_KEY not in log


# --- upsert and freshness ---------------------------------------------------------------------


def test_upserted_article_shows_in_other_lists_within_a_second(api: httpx.Client) -> None:
    response = api.put("/articles/fresh-001", json=BRIDGE, headers=WRITE)
    assert response.status_code == 201
    assert response.json()["result"] == "added"
    deadline = time.monotonic() + 1.0
    while "fresh-001" not in related_ids(api, "sample-014", k=5):
        assert time.monotonic() < deadline, "upsert not visible within 1 s"
        time.sleep(0.02)


def test_upserted_article_has_lists_of_its_own_at_once(api: httpx.Client) -> None:
    api.put("/articles/fresh-002", json=BATTERY, headers=WRITE)
    body = api.get("/articles/fresh-002/related", params={"k": 3}, headers=READ).json()
    text = " ".join(item["title"] + item["snippet"] for item in body["more_like_this"])
    assert "battery" in text


def test_upsert_names_the_new_index_version(api: httpx.Client) -> None:
    before = api.get("/readyz").json()["index_version"]
    response = api.put("/articles/fresh-003", json=REGATTA, headers=WRITE)
    after = response.json()["index_version"]
    assert after != before and after == response.headers["X-Index-Version"]


def test_putting_the_same_article_again_is_unchanged(api: httpx.Client) -> None:
    api.put("/articles/fresh-004", json=CHOIR, headers=WRITE)
    again = api.put("/articles/fresh-004", json=CHOIR, headers=WRITE)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")


def test_putting_new_text_updates_the_article(api: httpx.Client) -> None:
    api.put("/articles/fresh-005", json=FOG, headers=WRITE)
    changed = {**FOG, "title": "Kestrel Valley Airport orders a fog landing system"}
    response = api.put("/articles/fresh-005", json=changed, headers=WRITE)
    assert response.json()["result"] == "updated"
    assert api.get("/articles/fresh-005", headers=READ).json()["title"] == changed["title"]


def test_invalid_article_is_422_naming_the_field(api: httpx.Client) -> None:
    response = api.put("/articles/bad-1", json={"title": "   "}, headers=WRITE)
    assert response.status_code == 422
    assert "title" in response.json()["detail"][0]["msg"]


def test_unknown_article_field_is_422(api: httpx.Client) -> None:
    response = api.put("/articles/bad-2", json={"title": "t", "headline": "h"}, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "headline"]


def test_an_id_in_the_body_must_match_the_path(api: httpx.Client) -> None:
    response = api.put("/articles/bad-3", json={**CHOIR, "id": "bad-4"}, headers=WRITE)
    assert response.status_code == 422
    assert "bad-4" in response.json()["detail"][0]["msg"]


def test_batch_upserts_every_article(api: httpx.Client) -> None:
    articles = [{**REGATTA, "id": "batch-001"}, {**CHALICE, "id": "batch-002"}]
    response = api.post("/articles:batch", json={"articles": articles}, headers=WRITE)
    assert response.status_code == 200
    assert (response.json()["added"], response.json()["embedded"]) == (2, 2)
    for article_id in ("batch-001", "batch-002"):
        assert api.get(f"/articles/{article_id}", headers=READ).status_code == 200


def test_batch_with_one_bad_article_writes_none(api: httpx.Client) -> None:
    articles = [{**CHOIR, "id": "batch-ok"}, {**CHOIR, "id": "batch-bad", "title": " "}]
    response = api.post("/articles:batch", json={"articles": articles}, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "articles", 1]
    assert api.get("/articles/batch-ok", headers=READ).status_code == 404


def test_batch_over_500_articles_is_422_naming_the_limit(api: httpx.Client) -> None:
    articles = [{"id": f"many-{i}", "title": "t"} for i in range(501)]
    response = api.post("/articles:batch", json={"articles": articles}, headers=WRITE)
    assert response.status_code == 422
    assert "at most 500" in response.json()["detail"][0]["msg"]


# --- unpublish ---------------------------------------------------------------------------------


def test_unpublished_article_leaves_every_list_at_once(api: httpx.Client) -> None:
    api.put("/articles/gone-001", json=MARTEN, headers=WRITE)
    sources = [f"sample-{n:03d}" for n in range(1, 81)]
    showing = [s for s in sources if "gone-001" in related_ids(api, s, k=10)]
    assert len(showing) >= 3
    response = api.delete("/articles/gone-001", headers=WRITE)
    assert (response.status_code, response.json()["unpublished"]) == (200, True)
    assert [s for s in sources if "gone-001" in related_ids(api, s, k=10)] == []
    assert api.get("/articles/gone-001", headers=READ).status_code == 404
    assert api.get("/articles/gone-001/related", headers=READ).status_code == 404


def test_unpublishing_an_unknown_article_is_404(api: httpx.Client) -> None:
    assert api.delete("/articles/never-was", headers=WRITE).status_code == 404


# --- cache invalidation ------------------------------------------------------------------------


def test_upsert_invalidates_cached_lists(api: httpx.Client) -> None:
    params = {"k": 10}
    api.get("/articles/sample-065/related", params=params, headers=READ)
    cached = api.get("/articles/sample-065/related", params=params, headers=READ)
    assert cached.headers["X-Cache"] == "hit"
    appeal = article(
        "Chalice thieves lose appeal against their four-year sentences",
        "The two men jailed for stealing the Marrow Valley Museum's medieval silver chalice "
        "lost their appeal at the High Court on Tuesday.",
        "culture",
    )
    api.put("/articles/cache-001", json=appeal, headers=WRITE)
    fresh = api.get("/articles/sample-065/related", params=params, headers=READ)
    assert fresh.headers["X-Cache"] == "miss"
    shown = {i["id"] for i in fresh.json()["more_like_this"] + fresh.json()["related"]}
    assert "cache-001" in shown


def test_unpublish_invalidates_cached_lists(api: httpx.Client) -> None:
    api.put("/articles/cache-002", json=CORRAN, headers=WRITE)
    params = {"k": 10}
    api.get("/articles/sample-060/related", params=params, headers=READ)
    assert "cache-002" in related_ids(api, "sample-060", **params)  # a cache hit
    api.delete("/articles/cache-002", headers=WRITE)
    assert "cache-002" not in related_ids(api, "sample-060", **params)


# --- events --------------------------------------------------------------------------------------


def test_events_are_stored(api: httpx.Client) -> None:
    events = [
        {"article_id": "sample-010", "kind": "view"},
        {"article_id": "sample-010", "kind": "click", "at": "2026-10-11T09:00:00Z"},
    ]
    response = api.post("/events", json={"events": events}, headers=WRITE)
    assert response.status_code == 202
    assert response.json() == {"received": 2, "stored": 2}


def test_a_readers_identical_events_without_a_time_in_one_batch_are_all_stored(
    api: httpx.Client,
) -> None:
    view = {"article_id": "sample-012", "kind": "view", "user": "reader-42"}
    response = api.post("/events", json={"events": [view, view, view]}, headers=WRITE)
    assert response.json() == {"received": 3, "stored": 3}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/articles/typed-1", {"title": "A typed article", "popularity": False}, "popularity"),
        ("/articles/typed-2", {"title": "A typed article", "published_at": 0}, "published_at"),
        ("/events", {"events": [{"article_id": "sample-001", "kind": "view", "at": 0}]}, "at"),
    ],
)
def test_a_value_of_another_type_than_the_schema_states_is_422(
    api: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    method = "POST" if path == "/events" else "PUT"
    response = api.request(method, path, json=body, headers=WRITE)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_events_with_a_key_seen_before_are_skipped(api: httpx.Client) -> None:
    event = {"article_id": "sample-011", "kind": "view", "key": "page-view-7f3a"}
    api.post("/events", json={"events": [event]}, headers=WRITE)
    again = api.post("/events", json={"events": [event]}, headers=WRITE)
    assert again.json() == {"received": 1, "stored": 0}


def test_clicks_raise_popularity_and_renew_cached_lists(api: httpx.Client) -> None:
    params = {"k": 5, "explain": "true"}
    deadline = time.monotonic() + 3
    # Events of earlier tests may still be folding in; wait until the answer is cached.
    while (before := api.get("/articles/sample-023/related", params=params, headers=READ)).headers[
        "X-Cache"
    ] != "hit":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    item = min(before.json()["related"], key=lambda i: i["explanation"]["parts"]["popularity"])
    clicks = [{"article_id": item["id"], "kind": "click"}] * 500
    assert api.post("/events", json={"events": clicks}, headers=WRITE).status_code == 202
    deadline = time.monotonic() + 3
    while True:
        after = api.get("/articles/sample-023/related", params=params, headers=READ)
        shown = {i["id"]: i for i in after.json()["related"]}
        if after.headers["X-Cache"] == "miss" and item["id"] in shown:
            break
        assert time.monotonic() < deadline, "the clicks did not reach the cached list"
        time.sleep(0.1)
    parts = shown[item["id"]]["explanation"]["parts"]
    assert parts["popularity"] > item["explanation"]["parts"]["popularity"]


def test_events_from_the_future_are_422(api: httpx.Client) -> None:
    event = {"article_id": "sample-011", "kind": "view", "at": "2999-01-01T00:00:00Z"}
    response = api.post("/events", json={"events": [event]}, headers=WRITE)
    assert response.status_code == 422
    assert "future" in response.json()["detail"][0]["msg"]


def test_event_batch_over_1000_is_422_naming_the_limit(api: httpx.Client) -> None:
    events = [{"article_id": "sample-012", "kind": "view"}] * 1001
    response = api.post("/events", json={"events": events}, headers=WRITE)
    assert response.status_code == 422
    assert "at most 1000" in response.json()["detail"][0]["msg"]


# --- the writer lock ---------------------------------------------------------------------------


def test_write_while_another_job_holds_the_writer_lock_is_503(
    api: httpx.Client, write_home: Path
) -> None:
    with WriterLock(write_home, purpose="test ingest"):
        response = api.put("/articles/locked-1", json=BRIDGE, headers=WRITE)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "test ingest" in response.json()["detail"]


# --- a rebuild run by the service (last: it changes the index version) -------------------------


def test_admin_reindex_publishes_and_swaps_in_a_new_version(api: httpx.Client) -> None:
    started = api.post("/admin/reindex", headers=WRITE)
    assert started.status_code == 202
    deadline = time.monotonic() + 30
    while api.get("/readyz").json()["index_version"] != "v000002":
        assert time.monotonic() < deadline, "the rebuilt index was not swapped in"
        time.sleep(0.05)
    state = api.get("/admin/reindex", headers=WRITE).json()
    assert (state["running"], state["last_published"]) == (False, "v000002")


def test_admin_routes_need_the_write_key(api: httpx.Client) -> None:
    assert api.post("/admin/reindex", headers=READ).status_code == 403
