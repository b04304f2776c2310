"""The response cache: keyed answers, valid for one engine generation, bounded, expiring."""

from __future__ import annotations

import time

from service.cache import CachedResponse, ResponseCache

A = CachedResponse(b'{"a":1}', "v000001")
B = CachedResponse(b'{"b":2}', "v000001")


def test_an_entry_is_served_in_the_generation_it_was_stored_in() -> None:
    cache = ResponseCache(8)
    cache.put("k", 3, A)
    hit = cache.get("k", 3)
    assert hit is not None and hit.body == A.body


def test_a_newer_generation_drops_every_entry() -> None:
    cache = ResponseCache(8)
    cache.put("k", 3, A)
    cache.put("j", 3, B)
    assert cache.get("k", 4) is None
    assert cache.get("j", 3) is None  # dropped, not just hidden from generation 4
    assert len(cache) == 0


def test_an_answer_computed_before_a_change_is_not_stored_after_it() -> None:
    cache = ResponseCache(8)
    cache.get("other", 5)  # the engine has reached generation 5
    cache.put("k", 4, A)  # an answer that started in generation 4 finishes late
    assert cache.get("k", 5) is None and cache.get("k", 4) is None


def test_a_lookup_with_an_older_generation_keeps_newer_entries() -> None:
    cache = ResponseCache(8)
    cache.put("k", 5, A)
    assert cache.get("k", 4) is None
    assert cache.get("k", 5) is not None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = ResponseCache(2)
    cache.put("a", 1, A)
    cache.put("b", 1, B)
    cache.get("a", 1)
    cache.put("c", 1, A)
    assert (cache.get("a", 1) is not None, cache.get("b", 1), cache.get("c", 1) is not None) == (
        True,
        None,
        True,
    )


def test_capacity_zero_caches_nothing() -> None:
    cache = ResponseCache(0)
    cache.put("k", 1, A)
    assert cache.get("k", 1) is None


def test_entries_expire_after_their_time_to_live() -> None:
    cache = ResponseCache(8, ttl_seconds=0.05)
    cache.put("k", 1, A)
    time.sleep(0.1)
    assert cache.get("k", 1) is None


def test_the_byte_budget_evicts_the_least_recently_used_bodies() -> None:
    cache = ResponseCache(100, max_bytes=20)
    for key in "abc":
        cache.put(key, 1, A)  # 7 bytes each: the third passes the budget
    assert cache.get("a", 1) is None
    assert cache.get("b", 1) is not None and cache.get("c", 1) is not None
    assert cache.size_bytes == 14


def test_a_body_larger_than_the_whole_budget_is_not_stored() -> None:
    cache = ResponseCache(100, max_bytes=20)
    cache.put("small", 1, A)
    cache.put("big", 1, CachedResponse(b"x" * 21, "v000001"))
    assert cache.get("big", 1) is None
    assert cache.get("small", 1) is not None and cache.size_bytes == 7


def test_replacing_an_entry_counts_its_bytes_once() -> None:
    cache = ResponseCache(100, max_bytes=1_000)
    cache.put("k", 1, A)
    cache.put("k", 1, CachedResponse(b"x" * 100, "v000001"))
    assert cache.size_bytes == 100 and len(cache) == 1
    cache.get("other", 2)  # a new generation empties the cache and its byte count
    assert cache.size_bytes == 0
