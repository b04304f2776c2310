"""Editors over HTTP, on a real server: pins (into either list) and blocks with the write key,
the same record as the CLI, expiry; and ``GET /articles?q=`` finding articles by headline or
URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.overrides import OverrideStore
from tests.conftest import LiveServer, make_settings
from tests.service.servers import WRITE_KEY, copy_home, start

SOURCE = "sample-002"  # the bridge closure: its lists hold the bridge story
# Far from the bridge story: never in sample-002's More like this or Related by its score.
FAR = "sample-026"  # a medieval chalice stolen from the museum
EDITOR = "Ruth Editor"


@pytest.fixture(scope="module")
def home(sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(sample_home_template, tmp_path_factory.mktemp("overrides-http"))


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[LiveServer]:
    live = start(home, {"NEWSREC_API_KEY": WRITE_KEY})
    yield live
    live.stop()


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": WRITE_KEY}) as http:
        yield http
    # Each test starts with no override in force.
    with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": WRITE_KEY}) as http:
        for made in http.get("/overrides").json()["overrides"]:
            http.delete(f"/overrides/{made['id']}", params={"by": "cleanup"})


def ids(api: httpx.Client, box: str, **params: Any) -> list[str]:
    answer = api.get(f"/articles/{SOURCE}/related", params={"k": 5, **params})
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()[box]]


def test_override_routes_need_the_write_key(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        assert anonymous.get("/overrides").status_code == 401
        pin = {"source": SOURCE, "target": FAR, "by": EDITOR}
        assert anonymous.post("/overrides/pins", json=pin).status_code == 401
        assert anonymous.delete("/overrides/1", params={"by": EDITOR}).status_code == 401


def test_a_pin_puts_the_article_into_related_at_its_place(api: httpx.Client) -> None:
    assert FAR not in ids(api, "related") + ids(api, "more_like_this")
    made = api.post(
        "/overrides/pins",
        json={"source": SOURCE, "target": FAR, "position": 2, "reason": "appeal", "by": EDITOR},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["kind"], body["list"], body["position"], body["by"]) == (
        "pin",
        "related",
        2,
        EDITOR,
    )
    assert body["state"] == "active" and body["warnings"] == []
    # The answer is sent once this worker's lists hold the pin.
    assert ids(api, "related")[1] == FAR
    assert FAR not in ids(api, "more_like_this")


def test_a_pin_into_more_like_this_goes_there_and_not_into_related(api: httpx.Client) -> None:
    made = api.post(
        "/overrides/pins",
        json={"source": SOURCE, "target": FAR, "list": "more_like_this", "by": EDITOR},
    )
    assert made.status_code == 201, made.text
    assert made.json()["list"] == "more_like_this"
    assert ids(api, "more_like_this")[0] == FAR
    assert FAR not in ids(api, "related")
    explained = api.get(f"/articles/{SOURCE}/related", params={"explain": "true"}).json()
    assert explained["more_like_this"][0]["explanation"]["pinned"] is True


def test_a_block_wins_over_a_pin_and_the_pin_warns(api: httpx.Client) -> None:
    blocked = api.post("/overrides/blocks", json={"target": FAR, "by": EDITOR, "reason": "legal"})
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["source"] is None  # every list
    pinned = api.post("/overrides/pins", json={"source": SOURCE, "target": FAR, "by": EDITOR})
    assert pinned.json()["warnings"] == [
        f"{FAR} is blocked (override {blocked.json()['id']}); blocks win over pins"
    ]
    assert FAR not in ids(api, "related")


def test_overrides_can_be_listed_for_one_article(api: httpx.Client) -> None:
    api.post("/overrides/pins", json={"source": SOURCE, "target": FAR, "by": EDITOR})
    api.post("/overrides/pins", json={"source": "sample-001", "target": FAR, "by": EDITOR})
    api.post("/overrides/blocks", json={"target": "sample-050", "by": EDITOR})
    listed = api.get("/overrides", params={"source": SOURCE}).json()["overrides"]
    assert [(o["kind"], o["source"]) for o in listed] == [("pin", SOURCE), ("block", None)]


def test_a_block_for_one_article_keeps_its_target_out_of_that_article_s_lists(
    api: httpx.Client,
) -> None:
    target = ids(api, "more_like_this")[0]
    made = api.post("/overrides/blocks", json={"target": target, "source": SOURCE, "by": EDITOR})
    assert made.status_code == 201, made.text
    assert target not in ids(api, "more_like_this") + ids(api, "related") + ids(api, "popular")


def test_removing_an_override_stamps_the_record_and_lifts_it(api: httpx.Client, home: Path) -> None:
    made = api.post("/overrides/pins", json={"source": SOURCE, "target": FAR, "by": EDITOR})
    override_id = made.json()["id"]
    removed = api.delete(f"/overrides/{override_id}", params={"by": "Chief Editor"})
    assert removed.status_code == 200, removed.text
    assert removed.json()["state"].startswith("removed ")
    assert removed.json()["state"].endswith(" by Chief Editor")
    assert FAR not in ids(api, "related")
    assert api.get("/overrides").json()["overrides"] == []
    record = {o["id"]: o for o in api.get("/overrides", params={"all": "true"}).json()["overrides"]}
    assert record[override_id]["active"] is False
    # The same record the CLI keeps, in the catalogue file.
    with OverrideStore(make_settings(home).catalogue_path, readonly=True) as store:
        stored = store.get(override_id)
    assert stored is not None
    assert (stored.created_by, stored.removed_by) == (EDITOR, "Chief Editor")
    again = api.delete(f"/overrides/{override_id}", params={"by": EDITOR})
    assert again.status_code == 404
    assert f"no override {override_id} in force" in again.json()["detail"]


def test_a_pin_with_an_expiry_stops_applying_by_itself(api: httpx.Client) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    made = api.post(
        "/overrides/pins", json={"source": SOURCE, "target": FAR, "until": until, "by": EDITOR}
    )
    assert made.status_code == 201, made.text
    assert datetime.fromisoformat(made.json()["until"]) == datetime.fromisoformat(until)
    assert FAR in ids(api, "related")
    time.sleep(3.5)
    assert FAR not in ids(api, "related")
    assert api.get("/overrides").json()["overrides"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"source": SOURCE, "target": "no-such", "by": EDITOR}, "no published article"),
        ({"source": SOURCE, "target": SOURCE, "by": EDITOR}, "into its own list"),
        ({"source": SOURCE, "target": FAR, "by": EDITOR, "until": "2001-01-01"}, "already past"),
        ({"source": SOURCE, "target": FAR, "by": EDITOR, "until": "soon"}, "expected a date"),
        ({"source": SOURCE, "target": FAR, "by": "  "}, "by"),
        ({"source": SOURCE, "target": FAR, "by": EDITOR, "list": "popular"}, "list"),
        ({"source": SOURCE, "target": FAR, "by": EDITOR, "position": 0}, "position"),
        ({"source": SOURCE, "target": FAR}, "by"),
    ],
)
def test_a_pin_that_cannot_be_made_is_422_naming_why(
    api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    answer = api.post("/overrides/pins", json=body)
    assert answer.status_code == 422, answer.text
    assert message in answer.text
    assert api.get("/overrides").json()["overrides"] == []  # nothing was recorded


# --- finding articles -----------------------------------------------------------------------


def test_find_by_headline_words_in_any_case(api: httpx.Client) -> None:
    found = api.get("/articles", params={"q": "LANTHORN cracks"}).json()
    assert [a["id"] for a in found["articles"]] == [SOURCE]
    assert found["articles"][0]["title"].startswith("Lanthorn Bridge closed after engineers")
    assert found["more"] is False


def test_find_by_url_puts_that_article_first(api: httpx.Client) -> None:
    url = api.get(f"/articles/{SOURCE}").json()["url"]
    found = api.get("/articles", params={"q": url}).json()
    assert found["articles"][0]["id"] == SOURCE
    by_path = api.get("/articles", params={"q": url.split("/")[-1]}).json()
    assert by_path["articles"][0]["id"] == SOURCE


def test_find_is_bounded_newest_first_and_says_when_more_matched(api: httpx.Client) -> None:
    found = api.get("/articles", params={"q": "bridge", "limit": 3}).json()
    assert len(found["articles"]) == 3 and found["more"] is True
    dates = [a["published_at"] for a in found["articles"]]
    assert dates == sorted(dates, reverse=True)


def test_find_takes_wildcards_literally(api: httpx.Client) -> None:
    percent = api.get("/articles", params={"q": "%", "limit": 100}).json()["articles"]
    assert [a["id"] for a in percent] == ["sample-004"]  # "Kestrel Reservoir falls to 41%"
    assert api.get("/articles", params={"q": "_"}).json()["articles"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "   "}, "the query is empty"),
        ({}, "q"),
        ({"q": "bridge", "limit": 0}, "limit"),
        ({"q": "bridge", "limit": 101}, "limit"),
        ({"q": "x" * 501}, "500"),
    ],
)
def test_a_bad_query_is_422_naming_why(
    api: httpx.Client, params: dict[str, Any], message: str
) -> None:
    answer = api.get("/articles", params=params)
    assert answer.status_code == 422, answer.text
    assert message in answer.text
