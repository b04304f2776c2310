"""Impressions and clicks of served lists through ``POST /events`` on a real server: genuine ones
are stored once and counted for their variant; forged, expired or misplaced ones are refused
one by one, while the rest of their batch is stored; plain views and clicks answer as before."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.events import EventStore
from index.feedback import FeedbackStore
from recommender.experiments.signer import configured_ids
from recommender.experiments.tokens import RecommendationIds, Trace, new_nonce
from tests.conftest import LiveServer, make_settings
from tests.service.servers import WRITE_KEY, copy_home, start

# Its own keyed server, which loads the model before it is ready: over 5 s, the slow tier (the
# rules themselves are checked fast in tests/recommender/experiments/test_feedback.py).
pytestmark = pytest.mark.slow

WRITE = {"X-API-Key": WRITE_KEY}
SOURCE = "sample-002"


@pytest.fixture(scope="module")
def home(sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(sample_home_template, tmp_path_factory.mktemp("feedback-server"))


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[LiveServer]:
    """A server with a write key (it loads the model before it is ready)."""
    server = start(home, {"NEWSREC_API_KEY": WRITE_KEY})
    yield server
    server.stop()


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def ids(server: LiveServer, home: Path) -> RecommendationIds:
    """The home's signer: the key the server created in the home at start."""
    return configured_ids(make_settings(home))


@pytest.fixture(scope="module")
def served(server: LiveServer) -> Trace:
    """What the server serves for the sample's bridge story, as an answer's trace."""
    body = httpx.get(f"{server.url}/articles/{SOURCE}/related", params={"k": 5}).json()
    lists = {name: tuple(i["id"] for i in body[name]) for name in ("more_like_this", "related")}
    assert all(lists.values()), lists
    return Trace(
        source=SOURCE,
        lists=lists,
        teams={},
        variant="default",
        experiment=None,
        index_version=body["index_version"],
        reader="0123456789abcdef",
        issued_at=datetime.now(UTC),
        nonce=new_nonce(),
    )


def _answer(served: Trace, **changes: Any) -> Trace:
    """Another answer like ``served``: a fresh nonce, so its feedback has keys of its own."""
    return replace(served, **{"nonce": new_nonce(), "issued_at": datetime.now(UTC), **changes})


def _click(token: str, trace: Trace, position: int = 1, **extra: Any) -> dict[str, Any]:
    item = trace.lists["related"][position - 1]
    return {"kind": "click", "recommendation_id": token, "position": position,
            "article_id": item, **extra}  # fmt: skip


def _post(api: httpx.Client, *events: Mapping[str, Any]) -> dict[str, Any]:
    response = api.post("/events", json={"events": list(events)}, headers=WRITE)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def _stored(home: Path, nonce: str) -> list[tuple[str, str]]:
    with FeedbackStore(make_settings(home).catalogue_path, readonly=True) as store:
        return [(row.kind, row.list_name) for row in store.rows() if row.recommendation == nonce]


def test_an_impression_and_a_click_are_stored_once_however_often_posted(
    api: httpx.Client, ids: RecommendationIds, served: Trace, home: Path
) -> None:
    answer = _answer(served)
    token = ids.issue(answer)
    impression = {"kind": "impression", "recommendation_id": token}
    click = _click(token, answer, position=2)
    first = _post(api, impression, click)
    assert first == {"received": 2, "stored": 1, "feedback_stored": 3, "rejected": []}
    assert _post(api, impression, click) == {
        "received": 2,
        "stored": 0,
        "feedback_stored": 0,
        "rejected": [],
    }
    assert _stored(home, answer.nonce) == [
        ("impression", "more_like_this"),
        ("impression", "related"),
        ("click", "related"),
    ]


def test_the_id_an_answer_carries_takes_its_impression_and_click(
    api: httpx.Client, home: Path
) -> None:
    answer = api.get(f"/articles/{SOURCE}/related", params={"k": 5, "reader": "reader-7"}).json()
    item = answer["related"][-1]
    token = answer["recommendation_id"]
    impression = {"kind": "impression", "recommendation_id": token, "list": "related"}
    click = {"kind": "click", "recommendation_id": token, "position": item["position"]}
    body = _post(api, {**impression, "visible": [1]}, {**click, "article_id": item["id"]})
    assert (body["feedback_stored"], body["rejected"]) == (2, [])
    with FeedbackStore(make_settings(home).catalogue_path, readonly=True) as store:
        row = [row for row in store.rows() if row.kind == "click"][-1]
    assert (row.article_id, row.position, row.variant) == (item["id"], item["position"], "default")
    assert row.reader is not None and "reader-7" not in row.reader  # hashed, never in clear


def test_a_click_is_also_an_ordinary_click_by_the_answers_reader(
    api: httpx.Client, ids: RecommendationIds, served: Trace, home: Path
) -> None:
    answer = _answer(served)
    _post(api, _click(ids.issue(answer), answer, user="raw-reader-id"))
    key = f"click:{answer.nonce}:related:1"
    with EventStore(make_settings(home).catalogue_path, readonly=True) as events:
        users = [
            user
            for batch in events.since(0)
            for user, article in zip(batch.users, batch.article_ids, strict=True)
            if article == answer.lists["related"][0]
        ]
    assert "0123456789abcdef" in users and "raw-reader-id" not in users
    with FeedbackStore(make_settings(home).catalogue_path, readonly=True) as store:
        assert key in {row.key for row in store.rows()}


def test_forged_expired_and_misplaced_feedback_is_rejected_and_the_rest_stored(
    api: httpx.Client, ids: RecommendationIds, served: Trace, home: Path
) -> None:
    answer = _answer(served)
    token = ids.issue(answer)
    flipped = token[:-4] + ("A" if token[-4] != "A" else "B") + token[-3:]
    old = _answer(served, issued_at=datetime.now(UTC) - timedelta(days=31))
    body = _post(
        api,
        {"article_id": SOURCE, "kind": "view", "key": f"view-{answer.nonce}"},
        _click(flipped, answer),
        {"kind": "impression", "recommendation_id": ids.issue(old)},
        {**_click(token, answer), "article_id": answer.lists["related"][1]},
        {**_click(token, answer), "position": 40},
        {"kind": "impression", "recommendation_id": token, "list": "related"},
    )
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "forged"),
        (2, "expired"),
        (3, "article"),
        (4, "position"),
    ]
    assert (body["stored"], body["feedback_stored"]) == (1, 1)
    assert _stored(home, answer.nonce) == [("impression", "related")]
    assert _stored(home, old.nonce) == []


def test_plain_views_and_clicks_answer_exactly_as_before(api: httpx.Client) -> None:
    events = [
        {"article_id": "sample-010", "kind": "view"},
        {"article_id": "sample-010", "kind": "click", "at": "2026-10-11T09:00:00Z"},
    ]
    response = api.post("/events", json={"events": events}, headers=WRITE)
    assert response.status_code == 202
    assert response.text == '{"received":2,"stored":2}'


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"kind": "impression"}, "an impression needs the answer"),
        ({"kind": "click", "article_id": "a", "recommendation_id": "x"}, "item's position"),
        ({"kind": "view"}, "a view needs the article"),
        ({"kind": "impression", "recommendation_id": "x", "article_id": "a"}, "whole list"),
        ({"kind": "click", "article_id": "a", "position": 2}, "only with the click's"),
    ],
)
def test_feedback_fields_that_do_not_fit_the_kind_are_422(
    api: httpx.Client, event: dict[str, Any], message: str
) -> None:
    response = api.post("/events", json={"events": [event]}, headers=WRITE)
    assert response.status_code == 422
    assert message in response.text


def test_metrics_count_feedback_by_variant_and_list_and_rejections_by_reason(
    api: httpx.Client, ids: RecommendationIds, served: Trace
) -> None:
    answer = _answer(served, variant="B", experiment="metrics-test")
    token = ids.issue(answer)
    _post(api, {"kind": "impression", "recommendation_id": token, "list": "related"})
    _post(api, _click(token, answer), {**_click(token, answer), "position": 2})
    text = api.get("/metrics").text
    stored = "newsrec_feedback_total"
    assert _sample(text, stored, kind="impression", variant="B", list="related") == 1
    assert _sample(text, stored, kind="click", variant="B", list="related") == 1
    assert _sample(text, "newsrec_feedback_rejected_total", reason="article") >= 1
    assert _sample(text, "newsrec_feedback_rejected_total", reason="ambiguous") == 0


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels`` in a Prometheus exposition."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if match and match[1] == name and dict(re.findall(r'(\w+)="([^"]*)"', match[2])) == labels:
            return float(match[3])
    raise AssertionError(f"{name}{labels} not in /metrics")
