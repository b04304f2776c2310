"""Prometheus metrics of the service, scraped at ``GET /metrics``.

Request latency and cache counts are recorded by every worker. With several workers
(``newsrec serve --workers N``) the command line points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory, each worker writes its counts there, and a scrape answered by any worker sums them
all. The index gauges describe the index of the worker that answers the scrape: every worker
serves the same on-disk version and follows the same catalogue, so they agree to within the
follower's polling interval.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from index.feedback import Feedback
from recommender.experiments.feedback import FEEDBACK_REASONS
from recommender.serving.engine import Engine

__all__ = ["CONTENT_TYPE", "MULTIPROC_ENV", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_VERSION = re.compile(r"v(\d+)(?:\+(\d+))?")


class _IndexCollector(Collector):
    """Gauges read from the engine at scrape time, so the age is exact when scraped."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine()
        if engine is None:
            return
        status = engine.status()
        version = str(status["index_version"])
        match = _VERSION.fullmatch(version)
        number, changes = (int(match[1]), int(match[2] or 0)) if match else (0, 0)
        yield _gauge("newsrec_index_articles", "Articles in the served index.", engine.__len__())
        yield _gauge(
            "newsrec_index_version",
            "Number of the published index version served (v000007 is 7; 0 for none).",
            number,
        )
        yield _gauge(
            "newsrec_index_changes_applied",
            "Catalogue changes applied on top of the published version without a rebuild.",
            changes,
        )
        age = status.get("index_age_seconds")
        if isinstance(age, float):
            yield _gauge(
                "newsrec_index_age_seconds", "Seconds since the served version was built.", age
            )
        lag = status.get("lag")
        yield _gauge(
            "newsrec_catalogue_reachable",
            "1 while the catalogue answers; 0 while it is out of reach (lists from memory).",
            1 if status.get("catalogue") == "ok" else 0,
        )
        if isinstance(lag, int):
            yield _gauge(
                "newsrec_catalogue_lag",
                "Catalogue changes this worker's lists do not hold yet.",
                lag,
            )
        yield _gauge(
            "newsrec_index_generation",
            "Changes that can alter lists seen by this worker (cache generation).",
            engine.generation,
        )
        info = GaugeMetricFamily(
            "newsrec_index_info",
            "The served index version, as responses name it.",
            labels=["version", "model"],
        )
        info.add_metric([version, str(status["model"])], 1)
        yield info
        embedding = GaugeMetricFamily(
            "newsrec_embedding_info",
            "How article text is embedded: backend and precision (auto's choice, or forced).",
            labels=["backend"],
        )
        embedding.add_metric([str(status["embedding_backend"])], 1)
        yield embedding


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class Metrics:
    """The service's metrics and the registry ``/metrics`` renders."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        """Create the metrics; ``engine`` returns the engine serving now (None before start-up)."""
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self._registry = CollectorRegistry(auto_describe=True)
        # In multiprocess mode values live in files shared by the workers, and the registry
        # collects them from there; registering the objects as well would count them twice.
        own: Any = None if self.multiprocess else self._registry
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self._registry)  # type: ignore[no-untyped-call]
        self.latency = Histogram(
            "newsrec_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status code.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=own,
        )
        self.cache = Counter(
            "newsrec_cache_requests",
            "Cacheable requests, by whether the cache answered them.",
            ["result"],
            registry=own,
        )
        self.cache_hits = self.cache.labels("hit")
        self.cache_misses = self.cache.labels("miss")
        self.feedback = Counter(
            "newsrec_feedback",
            "Impressions and clicks checked against their recommendation id and stored, by "
            "kind, variant and list.",
            ["kind", "variant", "list"],
            registry=own,
        )
        self.feedback_rejected = Counter(
            "newsrec_feedback_rejected",
            "Impressions and clicks refused (never counted for a variant), by reason.",
            ["reason"],
            registry=own,
        )
        for reason in FEEDBACK_REASONS:  # shown at 0, so an alert can watch any reason
            self.feedback_rejected.labels(reason)
        self.store_fetch_failures = Counter(
            "newsrec_store_fetch_failures",
            "Fetches from the shared index store that failed; the replica kept its version.",
            registry=own,
        )
        # Looking a labelled child up takes a lock and checks the labels; the few
        # (method, route, status) triples a service answers are looked up once each.
        self._latency_of: dict[tuple[str, str, int], Histogram] = {}
        self._registry.register(_IndexCollector(engine))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        key = (method, route, status)
        child = self._latency_of.get(key)
        if child is None:
            child = self._latency_of[key] = self.latency.labels(method, route, str(status))
        child.observe(seconds)

    def count_feedback(self, stored: Iterable[Feedback]) -> None:
        """Count impressions and clicks just stored."""
        for row in stored:
            self.feedback.labels(row.kind, row.variant, row.list_name).inc()

    def count_rejected(self, reason: str) -> None:
        """Count one impression or click refused for ``reason``."""
        self.feedback_rejected.labels(reason).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self._registry)
