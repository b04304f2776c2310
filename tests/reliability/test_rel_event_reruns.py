"""Event imports are idempotent: an import killed anywhere and rerun stores each row once.

An anonymous file (rows with neither ``id`` nor ``user``, identical rows included) is imported
by ``newsrec events`` and SIGKILLed three times at random moments, then imported to the end,
then once more: the store holds exactly one event per row.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index import CatalogueError
from index.events import EventStore
from tests.conftest import make_settings
from tests.reliability.support import (
    cli_env,
    run_newsrec,
    sigkill,
    start_newsrec,
    write_jsonl,
)

ROWS = 60_000


def _anonymous_rows(n: int) -> list[dict[str, str]]:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    # Every tenth row repeats the one before it: two readers of one article in one second.
    return [
        {
            "article_id": f"sample-{1 + (i - (i % 10 == 9)) % 80:03d}",
            "kind": "view",
            "at": (start + timedelta(seconds=i - (i % 10 == 9))).isoformat(),
        }
        for i in range(n)
    ]


def _stored(home: Path) -> int:
    try:
        with EventStore(make_settings(home).catalogue_path, readonly=True) as store:
            return store.count()
    except CatalogueError:  # no events tables yet: none stored
        return 0


@pytest.mark.slow
def test_an_anonymous_import_killed_three_times_then_rerun_stores_each_row_once(
    sample_home: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    events = write_jsonl(tmp_path / "events.jsonl", _anonymous_rows(ROWS))
    before = _stored(sample_home)
    rng = random.Random(15)
    kills = 0
    for _ in range(3):
        job = start_newsrec("events", events, "--home", sample_home, env=cli_env())
        time.sleep(rng.uniform(1.0, 4.0))  # start-up, then somewhere in the import
        kills += sigkill(job)
    ledger["faults: SIGKILLs mid event import"] += kills
    for _ in range(2):
        done = run_newsrec("events", events, "--home", sample_home)
        assert done.returncode == 0, done.stderr
    ledger["inputs: anonymous events imported"] += ROWS
    lost_or_doubled = abs(_stored(sample_home) - before - ROWS)
    ledger["lost: events counted twice or lost"] += lost_or_doubled
    assert _stored(sample_home) - before == ROWS
    assert "stored 0 events, 60000 already stored" in done.stdout
