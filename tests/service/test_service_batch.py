"""``POST /related:batch``: many articles' lists in one call, answered slot by slot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from service.batch import answer_batch
from service.cache import ResponseCache
from service.metrics import Metrics
from service.responses import ListAnswers
from service.schemas import MAX_BATCH_ARTICLES
from service.tracking import Assignment, Tracking
from service.workload import Busy, ListWork
from tests.conftest import make_settings
from tests.service.servers import lists_only

BATCH = "/related:batch"
DEFAULT = Assignment("default", None, None)
SAMPLE_IDS = [f"sample-{n:03d}" for n in range(1, 81)]


def cache_count(client: httpx.Client, result: str) -> float:
    """The server's count of list answers the cache gave (``hit``) or the engine (``miss``)."""
    metrics = client.get("/metrics").text
    found = re.search(rf'^newsrec_cache_requests_total{{result="{result}"}} (\S+)$', metrics, re.M)
    assert found, "no cache counter in /metrics"
    return float(found[1])


# --- what a batch answers --------------------------------------------------------------------


def test_each_slot_is_what_get_answers_for_that_id(client: httpx.Client) -> None:
    ids = ["sample-002", "sample-039", "sample-015"]
    response = client.post(BATCH, json={"ids": ids, "k": 3})
    assert response.status_code == 200, response.text
    answers = response.json()["answers"]
    assert [a["id"] for a in answers] == ids
    for slot in answers:
        assert slot["status"] == 200
        get = client.get(f"/articles/{slot['id']}/related", params={"k": 3}).json()
        assert lists_only(slot["lists"]) == lists_only(get)
        assert slot["lists"]["recommendation_id"] != get["recommendation_id"]


def test_unknown_id_gets_a_404_slot_and_the_rest_are_answered(client: httpx.Client) -> None:
    ids = ["sample-002", "no-such-article", "sample-039"]
    answers = client.post(BATCH, json={"ids": ids}).json()["answers"]
    assert [a["status"] for a in answers] == [200, 404, 200]
    assert answers[1] == {
        "id": "no-such-article",
        "status": 404,
        "detail": "no published article with id 'no-such-article'",
    }
    assert answers[0]["lists"]["more_like_this"]
    assert answers[2]["lists"]["more_like_this"]


def test_a_repeated_id_is_answered_in_each_of_its_slots(client: httpx.Client) -> None:
    answers = client.post(BATCH, json={"ids": ["sample-002", "sample-002"]}).json()["answers"]
    assert len(answers) == 2
    assert lists_only(answers[0]["lists"]) == lists_only(answers[1]["lists"])
    # Two slots are two served lists: each has an id of its own.
    assert answers[0]["lists"]["recommendation_id"] != answers[1]["lists"]["recommendation_id"]


def test_options_apply_to_every_slot(client: httpx.Client) -> None:
    body = {"ids": ["sample-002", "sample-039"], "lists": "related", "k": 2, "explain": True}
    for slot in client.post(BATCH, json=body).json()["answers"]:
        lists = slot["lists"]
        assert lists["more_like_this"] == [] and lists["popular"] == []
        assert 0 < len(lists["related"]) <= 2
        assert all(item["explanation"] for item in lists["related"])


def test_500_ids_are_answered(client: httpx.Client) -> None:
    ids = (SAMPLE_IDS * 7)[:MAX_BATCH_ARTICLES]
    response = client.post(BATCH, json={"ids": ids, "lists": "more_like_this", "k": 2})
    assert response.status_code == 200
    answers = response.json()["answers"]
    assert [a["id"] for a in answers] == ids
    assert all(a["status"] == 200 for a in answers)


def test_batch_shares_the_cache_of_get(client: httpx.Client) -> None:
    params: dict[str, str | int] = {"k": 4, "lists": "more_like_this,related"}
    client.get("/articles/sample-021/related", params=params)
    hits = cache_count(client, "hit")
    client.post(BATCH, json={"ids": ["sample-021"], **params})
    assert cache_count(client, "hit") == hits + 1


def test_a_batch_fills_the_cache_for_get(client: httpx.Client) -> None:
    params: dict[str, str | int] = {"k": 4, "lists": "related,popular"}
    client.post(BATCH, json={"ids": ["sample-060"], **params})
    response = client.get("/articles/sample-060/related", params=params)
    assert response.headers["x-cache"] == "hit"


def test_batch_takes_min_generation_as_other_reads_do(client: httpx.Client) -> None:
    body = {"ids": ["sample-002"]}
    assert client.post(BATCH, params={"min_generation": 0}, json=body).status_code == 200
    ahead = client.post(BATCH, params={"min_generation": 10**9}, json=body)
    assert ahead.status_code == 422
    assert "min_generation" in ahead.text


# --- what a batch refuses --------------------------------------------------------------------


def test_more_than_500_ids_is_422_naming_the_limit(client: httpx.Client) -> None:
    ids = (SAMPLE_IDS * 7)[: MAX_BATCH_ARTICLES + 1]
    response = client.post(BATCH, json={"ids": ids})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "ids"]
    assert "500" in error["msg"]


@pytest.mark.parametrize(
    "body",
    [
        {"ids": []},
        {},
        {"ids": ["sample-002"], "text": "a draft"},
        {"ids": ["sample-002"], "k": 51},
        {"ids": [""]},
    ],
)
def test_invalid_batch_is_422(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.post(BATCH, json=body).status_code == 422


def test_batch_is_documented(client: httpx.Client) -> None:
    operation = client.get("/openapi.json").json()["paths"][BATCH]["post"]
    assert "422" in operation["responses"]
    assert "503" in operation["responses"]


# --- the workload lanes ----------------------------------------------------------------------


@pytest.fixture
def answers(sample_home: Path) -> Iterator[ListAnswers]:
    """List answers over a private copy of the sample, with a full heavy lane: heavy work of
    the whole budget is running."""
    engine = Engine(make_settings(sample_home))
    work = ListWork(heavy_budget=10)
    work.heavy.in_use = 10
    weights = Weights.from_settings(engine.settings)
    tracking = Tracking.from_settings(engine.settings, None)
    yield ListAnswers(engine, ResponseCache(100), Metrics(lambda: engine), weights, work, tracking)
    work.heavy.in_use = 0
    work.close()
    engine.close()


def test_a_batch_costs_its_lists_together(answers: ListAnswers) -> None:
    # A plain list of 5 per list costs 2: two of them fit the light lane, four do not.
    request = ListRequest()
    light = asyncio.run(answer_batch(answers, SAMPLE_IDS[:2], request, DEFAULT))
    assert light.status_code == 200
    with pytest.raises(Busy, match="heavy"):
        asyncio.run(answer_batch(answers, SAMPLE_IDS[2:6], request, DEFAULT))
    assert answers.work.heavy.refused == 1


def test_cached_lists_cost_nothing(answers: ListAnswers) -> None:
    request = ListRequest()
    ids = SAMPLE_IDS[:6]
    for pair in (ids[0:2], ids[2:4], ids[4:6]):
        asyncio.run(answer_batch(answers, pair, request, DEFAULT))  # each pair fits the light lane
    assert asyncio.run(answer_batch(answers, ids, request, DEFAULT)).status_code == 200
    assert answers.work.heavy.refused == 0
