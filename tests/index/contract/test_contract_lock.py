"""The writer lock, the same for a home on one machine (a file lock) and for a catalogue in
PostgreSQL (an advisory lock): one holder at a time, named to the one refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index import LockedError
from index.targets import is_database_url

ROOT = Path(__file__).resolve().parents[3]

LockFactory = Callable[..., Any]


def test_a_second_writer_is_refused_naming_the_holders_purpose(writer_lock: LockFactory) -> None:
    with writer_lock(purpose="nightly reindex") as first:
        assert first.held
        with pytest.raises(LockedError, match="nightly reindex"), writer_lock(wait=0.1):
            pass
    assert not first.held


def test_the_lock_is_free_again_once_released(writer_lock: LockFactory) -> None:
    with writer_lock(purpose="first"):
        pass
    with writer_lock(purpose="second") as second:
        assert second.held


def test_a_writer_that_waits_gets_the_lock_when_the_holder_finishes(
    writer_lock: LockFactory,
) -> None:
    holder = writer_lock(purpose="short job")
    holder.__enter__()
    releaser = threading.Timer(0.3, holder.__exit__, (None, None, None))
    releaser.start()
    started = time.monotonic()
    try:
        with writer_lock(wait=10.0) as waiter:
            assert waiter.held and 0.2 < time.monotonic() - started < 5.0
    finally:
        releaser.join()


_HOLD = """
import sys, time
from pathlib import Path
from index import DatabaseLock, WriterLock
with {lock}:
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_holders_lock_is_free(
    writer_lock: LockFactory, catalogue_target: Path | str, tmp_path: Path
) -> None:
    # The holder is another process, killed without a chance to let go.
    if is_database_url(catalogue_target):
        lock = f"DatabaseLock({str(catalogue_target)!r}, purpose='doomed job')"
    else:
        lock = f"WriterLock(Path({str(tmp_path / 'home')!r}), purpose='doomed job')"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD.format(lock=lock)], stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(LockedError, match="doomed job"), writer_lock(wait=0.1):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        with writer_lock(wait=10.0) as mine:
            assert mine.held
    finally:
        holder.kill()
        holder.wait()
