"""The Python client (service.client) against a real ``newsrec serve``: every route, its
errors, and its retries against a server that sheds load.

One server takes writes (a write key) and admits one request at a time
(``NEWSREC_MAX_IN_FLIGHT=1``), so that a test can fill it with a request of its own and watch
the client be refused and come back after ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.client import (
    AsyncClient,
    Client,
    Forbidden,
    InvalidRequest,
    NotFound,
    Retry,
    ServiceBusy,
    ServiceUnreachable,
    Unauthorized,
)
from service.client.errors import retry_after_seconds
from tests.conftest import LiveServer, free_port
from tests.service.servers import WRITE_KEY, copy_home, start

SOURCE = "sample-039"
RETRY_AFTER = 1  # the server's NEWSREC_RETRY_AFTER_SECONDS


@pytest.fixture(scope="module")
def server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("client"))
    env = {
        "NEWSREC_API_KEY": WRITE_KEY,
        "NEWSREC_MAX_IN_FLIGHT": "1",
        "NEWSREC_RETRY_AFTER_SECONDS": str(RETRY_AFTER),
    }
    live = start(home, env)
    yield live
    live.stop()


@pytest.fixture
def newsrec(server: LiveServer) -> Iterator[Client]:
    with Client(server.url, api_key=WRITE_KEY) as client:
        yield client


class HeldSlot:
    """The server's one request slot, held by a POST whose body is sent but for one byte."""

    def __init__(self, url: str) -> None:
        host, port = httpx.URL(url).host, httpx.URL(url).port
        body = b'{"ids": ["sample-001"], "k": 1}'
        head = (
            f"POST /related HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._rest = body[-1:]
        self._sock = socket.create_connection((host, port or 80), timeout=10)
        self._sock.sendall(head + body[:-1])
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/articles/{SOURCE}/related").status_code != 503:
            assert time.monotonic() < deadline, "the held request never filled the slot"
            time.sleep(0.02)

    def release(self) -> None:
        """Send the last byte, read the answer, close."""
        self._sock.sendall(self._rest)
        assert self._sock.recv(100).startswith(b"HTTP/1.1 200")
        self._sock.close()

    def release_in(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


def statuses_seen() -> tuple[list[int], dict[str, Any]]:
    """A list filled with every status an httpx client receives, and the hooks filling it."""
    seen: list[int] = []
    return seen, {"response": [lambda response: seen.append(response.status_code)]}


# Reads


def test_related_returns_the_lists_as_the_service_model(newsrec: Client) -> None:
    lists = newsrec.related(SOURCE, k=3)
    assert lists.article is not None and lists.article.id == SOURCE
    assert 1 <= len(lists.more_like_this) <= 3
    assert SOURCE not in {item.id for item in lists.more_like_this + lists.related}
    assert lists.index_version


def test_list_options_reach_the_service(newsrec: Client) -> None:
    section = newsrec.related(SOURCE, k=1).more_like_this[0].section
    assert section is not None
    lists = newsrec.related(
        SOURCE, k=4, lists=["more_like_this"], exclude_section=[section], explain=True
    )
    assert lists.related == [] and lists.popular == []
    assert lists.more_like_this and all(item.section != section for item in lists.more_like_this)
    assert all(item.explanation is not None for item in lists.more_like_this)


def test_excluded_ids_and_weights_are_sent(newsrec: Client) -> None:
    first = newsrec.related(SOURCE, k=2, lists="more_like_this").more_like_this[0].id
    lists = newsrec.related(SOURCE, k=2, lists="more_like_this", exclude=[first])
    assert first not in {item.id for item in lists.more_like_this}
    weighted = newsrec.related(SOURCE, k=2, weights={"w_pop": 0.0}, explain=True)
    assert all(
        item.explanation.parts.get("popularity", 0) == 0
        for item in weighted.related
        if item.explanation
    )


def test_article_returns_the_article_in_full(newsrec: Client) -> None:
    found = newsrec.article(SOURCE)
    assert found.id == SOURCE and found.body


def test_lists_for_a_set_of_articles_hold_none_of_them(newsrec: Client) -> None:
    ids = ["sample-001", "sample-002"]
    lists = newsrec.related_to_articles(ids, k=3)
    assert lists.more_like_this
    assert not set(ids) & {item.id for item in lists.more_like_this + lists.related}


def test_health_metrics_openapi_and_demo_routes(newsrec: Client) -> None:
    assert newsrec.live() == {"status": "ok"}
    assert newsrec.ready()["status"] == "ready"
    assert "newsrec_" in newsrec.metrics()
    assert "/articles/{article_id}/related" in newsrec.openapi()["paths"]
    assert "<html" in newsrec.demo_page(SOURCE, k=2).lower()


def test_an_unknown_article_raises_not_found_with_the_servers_message(newsrec: Client) -> None:
    with pytest.raises(NotFound, match="no-such-article") as raised:
        newsrec.related("no-such-article")
    assert raised.value.status == 404
    assert "GET /articles/no-such-article/related: 404" in str(raised.value)


def test_invalid_options_raise_invalid_request_naming_the_parameter(newsrec: Client) -> None:
    with pytest.raises(InvalidRequest, match=r"query\.k: ") as raised:
        newsrec.related(SOURCE, k=10_000)
    assert raised.value.problems[0]["loc"] == ["query", "k"]


def test_a_draft_that_is_blank_raises_invalid_request(newsrec: Client) -> None:
    with pytest.raises(InvalidRequest, match="blank"):
        newsrec.related_to_text("   ")


# Writes


def test_a_written_article_is_read_back_with_its_generation(newsrec: Client) -> None:
    article = {
        "title": "Lanthorn Bridge repairs finish a week early",
        "body": "Engineers signed off the repaired span on Friday.",
        "section": "politics",
    }
    put = newsrec.put_article("client-001", article)
    assert put.result == "added"
    assert newsrec.article("client-001", min_generation=put.generation).title == article["title"]
    lists = newsrec.related("client-001", k=3, min_generation=put.generation)
    assert lists.article is not None and lists.article.id == "client-001"
    assert newsrec.put_article("client-001", article).result == "unchanged"
    gone = newsrec.delete_article("client-001")
    assert gone.unpublished and gone.generation > put.generation
    with pytest.raises(NotFound):
        newsrec.article("client-001", min_generation=gone.generation)


def test_an_id_with_slashes_and_escapes_round_trips(newsrec: Client) -> None:
    article_id = "2026/05/bridge%20story?draft#1"
    newsrec.put_article(article_id, {"title": "Lanthorn Bridge reopens", "body": "Open."})
    assert newsrec.article(article_id).id == article_id
    newsrec.delete_article(article_id)


def test_batch_events_drafts_and_reindex_state(newsrec: Client) -> None:
    batch = newsrec.put_articles(
        [
            {"id": "client-010", "title": "Ferry Road gets a bus lane", "section": "politics"},
            {"id": "client-011", "title": "Harborview ferry fares rise", "section": "politics"},
        ]
    )
    assert batch.added == 2
    events = newsrec.send_events([{"article_id": "client-010", "kind": "view", "user": "u1"}])
    assert events.received == 1
    draft = newsrec.related_to_text("Bus lane planned on Ferry Road", k=3)
    assert draft.article is None and draft.more_like_this
    assert newsrec.reindex_state().running in (True, False)


def test_an_invalid_article_raises_invalid_request_naming_the_field(newsrec: Client) -> None:
    with pytest.raises(InvalidRequest, match=r"body\.title"):
        newsrec.put_article("client-020", {"title": "", "body": "no title"})


def test_a_write_with_a_wrong_key_raises_unauthorized(server: LiveServer) -> None:
    with Client(server.url, api_key="not-the-key") as wrong, pytest.raises(Unauthorized):
        wrong.delete_article(SOURCE)


def test_a_write_without_a_write_key_configured_raises_forbidden(
    read_server: LiveServer,
) -> None:
    with Client(read_server.url) as keyless, pytest.raises(Forbidden, match="403"):
        keyless.put_article("client-030", {"title": "Refused"})


# Retries


def test_a_shed_request_is_retried_after_retry_after(server: LiveServer) -> None:
    seen, hooks = statuses_seen()
    with httpx.Client(event_hooks=hooks, timeout=30) as http, Client(server.url, http=http) as c:
        slot = HeldSlot(server.url)
        timer = slot.release_in(0.3)
        started = time.monotonic()
        lists = c.related(SOURCE, k=2)
        elapsed = time.monotonic() - started
        timer.join()
    assert lists.more_like_this
    assert seen == [503, 200]
    assert elapsed >= RETRY_AFTER


def test_without_retries_a_shed_request_raises_service_busy(server: LiveServer) -> None:
    slot = HeldSlot(server.url)
    try:
        with (
            Client(server.url, retry=Retry(attempts=1)) as once,
            pytest.raises(ServiceBusy, match="server busy") as raised,
        ):
            once.related(SOURCE)
    finally:
        slot.release()
    assert raised.value.status == 503
    assert raised.value.retry_after == RETRY_AFTER


def test_a_wait_longer_than_the_client_accepts_is_not_waited(server: LiveServer) -> None:
    slot = HeldSlot(server.url)
    started = time.monotonic()
    try:
        with (
            Client(server.url, retry=Retry(max_retry_after=0.5)) as impatient,
            pytest.raises(ServiceBusy),
        ):
            impatient.related(SOURCE)
    finally:
        slot.release()
    assert time.monotonic() - started < RETRY_AFTER


def test_concurrent_async_requests_all_succeed_through_shedding(server: LiveServer) -> None:
    seen, hooks = statuses_seen()

    async def burst() -> list[int]:
        async with (
            httpx.AsyncClient(event_hooks=_async(hooks), timeout=30) as http,
            AsyncClient(server.url, http=http) as client,
        ):
            answers = await asyncio.gather(*(client.related(SOURCE, k=n) for n in range(1, 5)))
        return [len(lists.more_like_this) for lists in answers]

    slot = HeldSlot(server.url)
    timer = slot.release_in(0.3)
    sizes = asyncio.run(burst())
    timer.join()
    assert sizes == [1, 2, 3, 4]
    assert seen.count(503) >= 4 and seen.count(200) == 4


def test_async_client_raises_the_same_errors(server: LiveServer) -> None:
    async def unknown() -> None:
        async with AsyncClient(server.url) as client:
            await client.article("no-such-article")

    with pytest.raises(NotFound, match="no-such-article"):
        asyncio.run(unknown())


def test_an_unreachable_service_raises_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        Client(url, retry=Retry(attempts=2, wait_initial=0.0)) as nowhere,
        pytest.raises(ServiceUnreachable, match=url),
    ):
        nowhere.live()


class _TooManyOnce(BaseHTTPRequestHandler):
    """Answers 429 with Retry-After to the first request, then 200: newsrec never sends 429,
    but a proxy or gateway in front of it may."""

    answered = 0

    def do_GET(self) -> None:
        type(self).answered += 1
        first = type(self).answered == 1
        body = b'{"detail": "slow down"}' if first else b'{"status": "ok"}'
        self.send_response(429 if first else 200)
        if first:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_429_from_a_gateway_is_retried_after_retry_after() -> None:
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _TooManyOnce)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        with Client(f"http://127.0.0.1:{gateway.server_port}") as client:
            started = time.monotonic()
            assert client.live() == {"status": "ok"}
            assert time.monotonic() - started >= 1
    finally:
        gateway.shutdown()
    assert _TooManyOnce.answered == 2


def test_retry_after_may_be_an_http_date() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/")
    later = httpx.Response(
        503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, request=request
    )
    past = httpx.Response(
        503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, request=request
    )
    assert (retry_after_seconds(later) or 0) > 1e9
    assert retry_after_seconds(past) == 0.0
    assert retry_after_seconds(httpx.Response(503, request=request)) is None


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        Client("127.0.0.1:8000")


def _async(hooks: dict[str, Any]) -> dict[str, Any]:
    async def record(response: httpx.Response) -> None:
        for hook in hooks["response"]:
            hook(response)

    return {"response": [record]}


def test_metadata_filters_reach_the_service(newsrec: Client) -> None:
    columns = [
        "Lanthorn Bridge: the council should pay for the repairs it delayed for a decade.",
        "The port authority's lorries wore out Lanthorn Bridge; its budget should mend it.",
        "Harborview's buses need Lanthorn Bridge back before the repair bill is settled.",
    ]
    written = newsrec.put_articles(
        [
            {
                "id": f"client-04{n}",
                "title": title,
                "author": "Ada Quill",
                "kind": "opinion",
                "section": "politics",
            }
            for n, title in enumerate(columns)
        ]
    )
    lists = newsrec.related(
        "client-040",
        k=5,
        lists="more_like_this",
        author=["Ada Quill"],
        kind=["opinion"],
        min_generation=written.generation,
    )
    assert {item.id for item in lists.more_like_this} == {"client-041", "client-042"}


def test_find_looks_articles_up_by_headline_words(newsrec: Client) -> None:
    found = newsrec.find("lanthorn bridge cracks", limit=3)
    assert found.articles[0].id == "sample-002"


def test_a_pin_leads_the_list_until_it_is_removed(newsrec: Client) -> None:
    target = "sample-077"
    pinned = newsrec.pin(SOURCE, target, by="client test", position=1, reason="a test")
    assert pinned.kind == "pin" and pinned.active
    lists = newsrec.related(SOURCE, k=3, lists="related", explain=True)
    first = lists.related[0]
    assert first.id == target and first.explanation is not None and first.explanation.pinned
    assert pinned.id in {o.id for o in newsrec.overrides().overrides}
    removed = newsrec.remove_override(pinned.id, by="client test")
    assert not removed.active
    assert target not in {o.target for o in newsrec.overrides().overrides}


def test_a_block_keeps_an_article_out_of_the_lists(newsrec: Client) -> None:
    target = newsrec.related(SOURCE, k=1, lists="more_like_this").more_like_this[0].id
    blocked = newsrec.block(target, by="client test", source=SOURCE, until="1d")
    try:
        lists = newsrec.related(SOURCE, k=10)
        assert target not in {i.id for i in lists.more_like_this + lists.related + lists.popular}
    finally:
        newsrec.remove_override(blocked.id, by="client test")


def test_an_unknown_override_raises_not_found(newsrec: Client) -> None:
    with pytest.raises(NotFound):
        newsrec.remove_override(999_999, by="client test")


def test_a_batch_read_answers_each_id_in_its_own_slot(newsrec: Client) -> None:
    batch = newsrec.related_batch([SOURCE, "no-such-article"], k=2, lists="more_like_this")
    known, unknown = batch.answers
    assert known.status == 200 and known.lists is not None and known.lists.more_like_this
    assert unknown.status == 404 and unknown.lists is None and unknown.detail


#: Every route of the API and the method of both clients that calls it.
METHOD_OF_ROUTE = {
    ("GET", "/livez"): "live",
    ("GET", "/readyz"): "ready",
    ("GET", "/healthz"): "ready",  # the same route under its older name
    ("GET", "/metrics"): "metrics",
    ("GET", "/articles"): "find",
    ("GET", "/articles/{article_id}"): "article",
    ("PUT", "/articles/{article_id}"): "put_article",
    ("DELETE", "/articles/{article_id}"): "delete_article",
    ("GET", "/articles/{article_id}/related"): "related",
    ("GET", "/articles/{article_id}/related.html"): "related_html",
    ("POST", "/articles:batch"): "put_articles",
    ("POST", "/related"): "related_to_text",
    ("POST", "/related:batch"): "related_batch",
    ("POST", "/events"): "send_events",
    ("GET", "/admin/reindex"): "reindex_state",
    ("POST", "/admin/reindex"): "reindex",
    ("GET", "/demo/articles/{article_id}"): "demo_page",
    ("GET", "/overrides"): "overrides",
    ("POST", "/overrides/pins"): "pin",
    ("POST", "/overrides/blocks"): "block",
    ("DELETE", "/overrides/{override_id}"): "remove_override",
}


def test_every_route_has_a_method_in_both_clients(newsrec: Client) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in newsrec.openapi()["paths"].items()
        for method in operations
    }
    assert routes - set(METHOD_OF_ROUTE) == set(), "add these routes to service/client"
    for name in METHOD_OF_ROUTE.values():
        assert callable(getattr(Client, name)) and callable(getattr(AsyncClient, name))


def test_the_html_boxes_link_the_lists_items(newsrec: Client) -> None:
    first = newsrec.related(SOURCE, k=1, lists="more_like_this").more_like_this[0]
    html = newsrec.related_html(SOURCE, k=1, lists="more_like_this", heading=3)
    assert "<h3" in html and first.title.split()[0] in html
