"""Killed mid-write: SIGKILL during ingest, reindex and publish loses nothing.

Real ``newsrec`` processes are killed with SIGKILL, at random moments while they write and at
named crash points (``NEWSREC_TEST_CRASH_AT``, see ``index/crashpoints.py``). Afterwards the
catalogue opens, the doctor finds no damage, the previous index version still answers exactly
as before, and rerunning the command completes the work with every article exactly once.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from index import Catalogue, IndexStore, WriterLock
from recommender.embedding.embedder import Embedder
from recommender.ingestion.ingest import ingest
from recommender.operations.indexing import publish_index
from tests.conftest import make_settings
from tests.reliability.conftest import SYNTHETIC_ARTICLES
from tests.reliability.support import (
    cli_env,
    errors_of,
    index_answers,
    live_ids,
    published_count,
    run_newsrec,
    sample_rows,
    served,
    sigkill,
    start_newsrec,
    synthetic_env,
    synthetic_rows,
    wait_for,
    warnings_of,
    write_jsonl,
)

# Real servers, subprocesses and kills: the slow tier (`make test`, not `make test-fast`).
pytestmark = pytest.mark.slow

SYNTHETIC_PROBES = ("syn-000001", "syn-004321", "syn-019999")
KILLED = -9  # returncode of a process ended by SIGKILL


def _writer_holds_lock(home: Path) -> bool:
    # WriterLock records its holder in the lock file on acquiring and truncates it on release.
    lock = home / "writer.lock"
    return lock.is_file() and lock.stat().st_size > 0


def _publish_started(home: Path) -> bool:
    return any(p.name.startswith(".tmp-") for p in (home / "index").iterdir())


def test_reindex_killed_at_random_moments_keeps_serving_the_same_lists(
    synthetic_home: Path, ledger: Counter[str]
) -> None:
    before = served(synthetic_home, SYNTHETIC_PROBES)
    # One clean run measures when writing starts and ends, so kills land inside that window.
    started = time.monotonic()
    clean = start_newsrec("reindex", "--home", synthetic_home, env=synthetic_env())
    writing = wait_for(lambda: _publish_started(synthetic_home), timeout=60)
    assert clean.wait(timeout=60) == 0
    took = time.monotonic() - started
    assert writing is not None
    rng = random.Random(20261127)
    interrupted = 0
    for _ in range(3):
        process = start_newsrec("reindex", "--home", synthetic_home, env=synthetic_env())
        time.sleep(rng.uniform(0.8 * writing, took))
        interrupted += sigkill(process)
        assert errors_of(synthetic_home) == []
        assert served(synthetic_home, SYNTHETIC_PROBES).same_lists(before)
    ledger["faults: SIGKILL during reindex"] += interrupted
    assert run_newsrec("reindex", "--home", synthetic_home, env=synthetic_env()).returncode == 0
    assert (errors_of(synthetic_home), warnings_of(synthetic_home)) == ([], [])
    assert published_count(synthetic_home) == SYNTHETIC_ARTICLES
    assert served(synthetic_home, SYNTHETIC_PROBES).same_lists(before)


@pytest.mark.parametrize(
    ("point", "serves_new"),
    [
        ("publish.after_files", False),
        ("publish.after_rename", False),
        ("publish.after_current", True),
        ("prune.during", True),
    ],
)
def test_reindex_killed_at_each_publish_step_keeps_serving_the_same_lists(
    sample_home: Path, point: str, serves_new: bool, ledger: Counter[str]
) -> None:
    settings = make_settings(sample_home)
    with WriterLock(sample_home), Catalogue(settings.catalogue_path) as catalogue:
        for _ in range(3):  # so that the publish has an old version to prune
            previous = publish_index(catalogue, IndexStore(settings.index_root), settings)
    before = served(sample_home)
    result = run_newsrec("reindex", "--home", sample_home, env=cli_env(NEWSREC_TEST_CRASH_AT=point))
    assert result.returncode == KILLED, result.stderr
    ledger["faults: SIGKILL at a publish crash point"] += 1
    assert errors_of(sample_home) == []
    after = served(sample_home)
    assert after.same_lists(before)
    assert (after.published != previous.name) is serves_new
    with WriterLock(sample_home), Catalogue(settings.catalogue_path) as catalogue:
        publish_index(catalogue, IndexStore(settings.index_root), settings)  # the rerun
    assert (errors_of(sample_home), warnings_of(sample_home)) == ([], [])
    assert served(sample_home).same_lists(before)


def test_ingest_killed_at_random_moments_loses_no_article(
    synthetic_home: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    # Every article's popularity changes and its text does not: the job writes 20,000 rows in
    # chunks and publishes, with no model to load, so random kills land in the writes.
    rows = synthetic_rows(SYNTHETIC_ARTICLES, popularity=1000)
    update = write_jsonl(tmp_path / "update.jsonl", rows)
    before = index_answers(synthetic_home)
    rng = random.Random(7)
    interrupted = 0
    for _ in range(3):
        process = start_newsrec("ingest", "--home", synthetic_home, update, env=synthetic_env())
        assert wait_for(lambda: _writer_holds_lock(synthetic_home), timeout=60) is not None
        time.sleep(rng.uniform(0.0, 2.0))
        if not sigkill(process):
            break  # it finished before the kill; the rerun below checks the result all the same
        interrupted += 1
        assert errors_of(synthetic_home) == []
        assert sorted(live_ids(synthetic_home)) == [r["id"] for r in rows]
        now = index_answers(synthetic_home)
        # The vectors did not change, so whichever version is CURRENT answers identically.
        assert (now.ids, now.scores) == (before.ids, before.scores)
    ledger["faults: SIGKILL during ingest"] += interrupted
    result = run_newsrec("ingest", "--home", synthetic_home, update, env=synthetic_env())
    assert result.returncode == 0, result.stderr
    ids = live_ids(synthetic_home)
    lost = len({r["id"] for r in rows} - set(ids))
    ledger["lost: articles"] += lost + len(ids) - len(set(ids))
    assert (lost, len(ids)) == (0, SYNTHETIC_ARTICLES)
    with Catalogue(make_settings(synthetic_home).catalogue_path, readonly=True) as catalogue:
        assert all(r.popularity >= 1000 for r in catalogue.iter_records())
        last_seq = catalogue.last_seq()
    assert IndexStore(synthetic_home / "index").current().manifest.catalogue_seq == last_seq
    assert (errors_of(synthetic_home), warnings_of(synthetic_home)) == ([], [])


def test_ingest_killed_while_publishing_is_completed_by_the_rerun(
    synthetic_home: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    update = write_jsonl(tmp_path / "update.jsonl", synthetic_rows(500, popularity=500))
    before = index_answers(synthetic_home)
    env = synthetic_env(NEWSREC_TEST_CRASH_AT="publish.after_files")
    assert run_newsrec("ingest", "--home", synthetic_home, update, env=env).returncode == KILLED
    ledger["faults: SIGKILL at a publish crash point"] += 1
    assert index_answers(synthetic_home) == before  # the same version, the same answers
    result = run_newsrec("ingest", "--home", synthetic_home, update, env=synthetic_env())
    assert result.returncode == 0, result.stderr
    assert "unchanged 500" in result.stdout
    # The rerun found every row already landed, and still published what the kill prevented.
    current = IndexStore(synthetic_home / "index").current()
    with Catalogue(make_settings(synthetic_home).catalogue_path, readonly=True) as catalogue:
        assert current is not None and current.manifest.catalogue_seq == catalogue.last_seq()
    assert (errors_of(synthetic_home), warnings_of(synthetic_home)) == ([], [])


def test_ingest_killed_between_chunks_keeps_the_first_and_the_rerun_adds_the_rest(
    sample_home: Path, tmp_path: Path, embedder: Embedder, ledger: Counter[str]
) -> None:
    # Ingest commits each file's rows as its own chunk; die just before the second commit.
    originals = sample_rows()[:30]
    files = []
    for part in range(3):
        rows = [
            {**row, "id": f"follow-{part}-{row['id']}", "title": f"Follow-up: {row['title']}"}
            for row in originals[part * 10 : part * 10 + 10]
        ]
        files.append(write_jsonl(tmp_path / f"part{part}.jsonl", rows))
    before = index_answers(sample_home)
    env = cli_env(NEWSREC_TEST_CRASH_AT="catalogue.before_commit#2")
    assert run_newsrec("ingest", "--home", sample_home, *files, env=env).returncode == KILLED
    ledger["faults: SIGKILL at a catalogue crash point"] += 1
    assert errors_of(sample_home) == []
    assert len(live_ids(sample_home)) == 80 + 10
    assert index_answers(sample_home) == before
    assert served(sample_home).lists  # and the lists still come back
    # The rerun runs in-process with the session's model (what `newsrec ingest` calls), which
    # saves loading the model in yet another process.
    report = ingest(files, make_settings(sample_home), lambda: embedder)
    assert (report.added, report.updated, report.unchanged) == (20, 0, 10)
    ids = live_ids(sample_home)
    ledger["lost: articles"] += 110 - len(set(ids))
    assert (len(ids), len(set(ids))) == (110, 110)
    assert published_count(sample_home) == 110
    assert (errors_of(sample_home), warnings_of(sample_home)) == ([], [])
