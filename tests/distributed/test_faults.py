"""A Ray worker killed with SIGKILL in the middle of a job: Ray runs its work again, and the
result is the one a clean run gives."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import ArticleRecord, Catalogue, IndexStore
from recommender.distributed.precompute import precompute_on_ray
from recommender.distributed.table import build_table_on_ray
from recommender.operations.indexing import publish_index
from recommender.operations.precompute import precompute
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.signals.neighbourhood import TableShape, build_table
from tests.conftest import make_settings
from tests.distributed.support import assert_same_table, clustered, index_of, lines_of

pytestmark = pytest.mark.slow


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # "pid (name) state ppid ...": the name may hold spaces, so split after it.
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _ours(pid: int) -> bool:
    """Whether ``pid`` descends from this process (a worker of the Ray it started)."""
    try:
        while pid > 1:
            pid = _parent(pid)
            if pid == os.getpid():
                return True
    except (OSError, ValueError, IndexError):
        pass
    return False


def _working(title: str) -> list[int]:
    """Our Ray workers whose process title is ``title``: Ray names a worker after what it runs."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                name = cmdline.read().split(b"\0")[0].decode(errors="replace").strip()
        except OSError:
            continue
        if name == title and _ours(int(entry)):
            found.append(int(entry))
    return found


def killed_while_running(title: str, job: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``job`` and SIGKILL the first worker seen running ``title``; returns the job's
    result and the killed worker's pid."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = job()
        except BaseException as exc:  # handed to the test below
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    victim = 0
    while thread.is_alive() and not victim:
        pids = _working(title)
        if pids:
            victim = pids[0]
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.01)
    thread.join(timeout=300)
    if "error" in result:
        raise result["error"]
    return result["value"], victim


def test_a_table_task_killed_mid_job_is_run_again_and_the_table_is_unchanged(
    ray_local: None,
) -> None:
    shape = TableShape(neighbours=10, pool=100, depth=50)
    docs, vectors, lexical = clustered(3500, dim=32)
    index = index_of("flat", docs, vectors)
    clean = build_table(index, docs, vectors, lexical, seq=2, shape=shape)
    table, victim = killed_while_running(
        "ray::_first_pass",
        lambda: build_table_on_ray(index, docs, vectors, lexical, seq=2, shape=shape, parts=3),
    )
    assert victim, "no worker was seen running the first pass"
    assert_same_table(table, clean)


def _many_articles_home(home: Path, count: int) -> Path:
    """A home of ``count`` articles in 12 topics, with vectors made here (no model)."""
    _, vectors, _ = clustered(count, dim=32, seed=5)
    rng = np.random.default_rng(5)
    words = [f"word{i}" for i in range(300)]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    records = [
        ArticleRecord(
            id=f"a{i}",
            title=" ".join(rng.choice(words, 6)),
            body=" ".join(rng.choice(words, 30)),
            url=None,
            section=f"s{i % 4}",
            tags=(),
            language="en",
            published_at=start + timedelta(hours=i),
            popularity=float(i % 7),
            content_hash=f"hash-{i}",
        )
        for i in range(count)
    ]
    settings = make_settings(home)
    with Catalogue(settings.catalogue_path) as catalogue:
        catalogue.upsert(records, {r.id: vectors[i] for i, r in enumerate(records)})
        publish_index(catalogue, IndexStore(settings.index_root), settings)
    return home


def test_a_precompute_worker_killed_mid_job_is_restarted_and_the_lines_are_unchanged(
    ray_local: None, tmp_path: Path
) -> None:
    settings = make_settings(_many_articles_home(tmp_path / "home", 600))
    request = ListRequest(k_more=5, k_related=5, k_popular=3)
    engine = Engine(settings)
    try:
        clean = precompute(engine, tmp_path / "clean.jsonl", request, workers=2)
    finally:
        engine.close()
    report, victim = killed_while_running(
        "ray::_ListWriter.write",
        lambda: precompute_on_ray(settings, tmp_path / "ray.jsonl", request, batch=20),
    )
    assert victim, "no worker was seen writing lines"
    assert report.articles == clean.articles == 600
    assert lines_of(tmp_path / "ray.jsonl") == lines_of(tmp_path / "clean.jsonl")
    assert report.sha256 == clean.sha256
