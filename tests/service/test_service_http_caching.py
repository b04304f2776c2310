"""HTTP caching of list answers on real servers: Cache-Control, ETags, 304s and gzip."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.http_caching import cache_control, etag_matches
from tests.conftest import LiveServer
from tests.service.servers import READ_KEY, WRITE_KEY, copy_home, start

RELATED = "/articles/sample-002/related"
WRITE = {"X-API-Key": WRITE_KEY}
READ = {"X-API-Key": READ_KEY}
# Lanthorn Bridge is sample-002's story; the sample's sport and business articles are not.
BRIDGE_FOLLOW_UP = {
    "title": "Lanthorn Bridge cracks: engineers find more damage in main span girders",
    "body": "Engineers inspecting Lanthorn Bridge found further cracks in the main span's "
    "steel girders, city engineer Helen Marsh said, and the bridge will stay closed to all "
    "traffic while repairs are planned.",
    "section": "politics",
    "language": "en",
    "published_at": "2026-09-03T09:00:00Z",
}


@pytest.fixture(scope="module")
def keyed_server(
    sample_home_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with both keys and answers reusable for two minutes; tests write to it."""
    home = copy_home(sample_home_template, tmp_path_factory.mktemp("http-caching"))
    env = {"NEWSREC_API_KEY": WRITE_KEY, "NEWSREC_READ_KEY": READ_KEY}
    server = start(home, {**env, "NEWSREC_CACHE_MAX_AGE": "120"})
    yield server
    server.stop()


@pytest.fixture
def keyed(keyed_server: LiveServer) -> Iterator[httpx.Client]:
    """A client of the keyed server, sending the read key."""
    with httpx.Client(base_url=keyed_server.url, headers=READ, timeout=60) as http:
        yield http


def etag_of(http: httpx.Client, path: str = RELATED, **params: Any) -> str:
    """The ETag of a 200 answer."""
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


# --- Cache-Control and ETag ------------------------------------------------------------------


def test_list_answer_is_public_for_the_default_60_seconds(client: httpx.Client) -> None:
    response = client.get(RELATED)
    assert response.headers["cache-control"] == "public, max-age=60"


@pytest.mark.slow  # the keyed server loads the model before it is ready
def test_max_age_is_configured_and_private_when_reads_need_a_key(keyed: httpx.Client) -> None:
    response = keyed.get(RELATED)
    assert response.headers["cache-control"] == "private, max-age=120"


def test_list_answer_has_a_weak_etag(client: httpx.Client) -> None:
    assert etag_of(client).startswith('W/"')


def test_the_same_request_gets_the_same_etag(client: httpx.Client) -> None:
    assert etag_of(client, k=3) == etag_of(client, k=3)


def test_other_options_get_another_etag(client: httpx.Client) -> None:
    assert etag_of(client, k=3) != etag_of(client, k=4)
    assert etag_of(client, k=3) != etag_of(client, k=3, explain="true")
    assert etag_of(client) != etag_of(client, "/articles/sample-039/related")


def test_errors_get_no_etag_and_no_cache_control(client: httpx.Client) -> None:
    response = client.get("/articles/no-such-article/related")
    assert response.status_code == 404
    assert "etag" not in response.headers
    assert "cache-control" not in response.headers


def test_post_answers_get_no_cache_control(client: httpx.Client) -> None:
    response = client.post("/related", json={"ids": ["sample-002"]})
    assert response.status_code == 200
    assert "cache-control" not in response.headers


# --- 304 -------------------------------------------------------------------------------------


def test_matching_if_none_match_gets_304_with_no_body(client: httpx.Client) -> None:
    etag = etag_of(client)
    response = client.get(RELATED, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["x-index-version"]
    assert "content-type" not in response.headers


def test_if_none_match_with_several_tags_or_a_star_gets_304(client: httpx.Client) -> None:
    etag = etag_of(client)
    for header in (f'W/"0000", {etag}', "*", etag.removeprefix("W/")):
        assert client.get(RELATED, headers={"If-None-Match": header}).status_code == 304


def test_another_tag_gets_the_full_answer(client: httpx.Client) -> None:
    response = client.get(RELATED, headers={"If-None-Match": 'W/"0123456789abcdef"'})
    assert response.status_code == 200
    assert response.json()["more_like_this"]


def test_304_of_a_gzip_client_has_no_body(client: httpx.Client) -> None:
    etag = etag_of(client, k=50, explain="true")
    response = client.get(
        RELATED,
        params={"k": 50, "explain": "true"},
        headers={"If-None-Match": etag, "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 304
    assert response.num_bytes_downloaded == 0
    assert "content-encoding" not in response.headers


# --- gzip ------------------------------------------------------------------------------------


def test_big_answer_is_gzipped(client: httpx.Client) -> None:
    with client.stream(
        "GET", RELATED, params={"k": 20, "explain": "true"}, headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    plain = gzip.decompress(raw)
    assert len(plain) > 10_000
    assert len(raw) < len(plain) / 2.5
    assert response.headers["etag"].startswith('W/"')


def test_small_answer_is_not_gzipped(client: httpx.Client) -> None:
    params = {"lists": "more_like_this", "k_more": 0}  # the source article alone
    response = client.get(RELATED, params=params, headers={"Accept-Encoding": "gzip"})
    assert len(response.content) < 1_024
    assert "content-encoding" not in response.headers


def test_client_that_does_not_accept_gzip_gets_plain_json(client: httpx.Client) -> None:
    params = {"k": 20, "explain": "true"}
    response = client.get(RELATED, params=params, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.json()["more_like_this"]


# --- what changes the ETag -------------------------------------------------------------------


@pytest.mark.slow  # the keyed server loads the model before it is ready
def test_etag_changes_after_an_upsert_that_enters_the_list(keyed: httpx.Client) -> None:
    before = etag_of(keyed)
    put = keyed.put("/articles/http-caching-bridge", json=BRIDGE_FOLLOW_UP, headers=WRITE)
    assert put.status_code == 201, put.text
    answer = keyed.get(RELATED)
    shown = {i["id"] for i in answer.json()["more_like_this"] + answer.json()["related"]}
    assert "http-caching-bridge" in shown
    assert answer.headers["etag"] != before
    assert keyed.get(RELATED, headers={"If-None-Match": before}).status_code == 200


@pytest.mark.slow  # the keyed server loads the model before it is ready
def test_etag_is_kept_after_a_write_that_leaves_the_list_as_it_was(keyed: httpx.Client) -> None:
    # A sport article's tags change: a write (the index version moves on) that no list of a
    # bridge article shows.
    params = {"lists": "more_like_this,related"}
    first = keyed.get(RELATED, params=params)
    assert "sample-080" not in first.text
    hawks = keyed.get("/articles/sample-080").json()
    kept = ("title", "body", "url", "section", "language", "published_at", "popularity")
    retagged = {**{name: hawks[name] for name in kept}, "tags": ["basketball"]}
    put = keyed.put("/articles/sample-080", json=retagged, headers=WRITE)
    assert put.json()["result"] == "updated", put.text
    after = keyed.get(RELATED, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert after.headers["x-index-version"] != first.headers["x-index-version"]
    assert after.status_code == 304
    assert after.headers["etag"] == first.headers["etag"]


@pytest.mark.slow  # the keyed server loads the model before it is ready
def test_etag_changes_after_an_unpublish_of_a_listed_article(keyed: httpx.Client) -> None:
    first = keyed.get("/articles/sample-039/related")
    listed = first.json()["more_like_this"][0]["id"]
    assert keyed.delete(f"/articles/{listed}", headers=WRITE).status_code == 200
    after = keyed.get(
        "/articles/sample-039/related", headers={"If-None-Match": first.headers["etag"]}
    )
    assert after.status_code == 200
    assert listed not in after.text


@pytest.mark.slow  # the keyed server loads the model before it is ready
def test_etag_is_kept_after_a_new_article_on_another_subject(keyed: httpx.Client) -> None:
    # More like this only: a short list's reason counts the catalogue's candidates, so a new
    # article anywhere changes a short answer (and its ETag). The Corran Motors story has no
    # article added by these tests, whose scores move a little with each later write.
    params = {"lists": "more_like_this"}
    corran = "/articles/sample-021/related"
    first = keyed.get(corran, params=params)
    assert first.json()["short"] == {}
    hawks = {
        "title": "Hawks sign veteran point guard before season opener",
        "body": "The Harborview Hawks signed a veteran point guard on a one-year deal.",
        "section": "sport",
        "language": "en",
        "published_at": "2026-10-20T08:00:00Z",
    }
    assert keyed.put("/articles/http-caching-hawks", json=hawks, headers=WRITE).status_code == 201
    after = keyed.get(corran, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert after.headers["x-index-version"] != first.headers["x-index-version"]
    assert after.status_code == 304


# --- the rules, exactly ----------------------------------------------------------------------


def test_cache_control_of_max_age_0_asks_to_check_first() -> None:
    assert cache_control(0, private=False) == "public, no-cache"
    assert cache_control(30, private=True) == "private, max-age=30"


def test_cache_control_refuses_a_negative_max_age() -> None:
    with pytest.raises(ValueError, match="max_age"):
        cache_control(-1, private=False)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"abc"', True),
        ('"abc"', True),  # weak comparison: W/ is ignored
        ('"x", W/"abc"', True),
        ("*", True),
        ('W/"abcd"', False),
        ('W/"ab"', False),
        ("", False),
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: str, matches: bool) -> None:
    assert etag_matches(header, 'W/"abc"') is matches
