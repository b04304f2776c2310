"""The writer lock: one writing job at a time, across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import LockedError, WriterLock

REPO = Path(__file__).resolve().parents[2]

# Holds the lock until its stdin is closed, or for argv[2] seconds if given.
HOLDER = """
import sys, time
from pathlib import Path
from index.locking import WriterLock
with WriterLock(Path(sys.argv[1]), purpose="ingest"):
    print("locked", flush=True)
    if len(sys.argv) > 2:
        time.sleep(float(sys.argv[2]))
    else:
        sys.stdin.readline()
"""


def start_holder(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "locked":
        proc.kill()
        pytest.fail("lock holder process did not start")
    return proc


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = start_holder(tmp_path)
    yield proc
    proc.communicate(timeout=10)  # closing stdin tells the holder to release and exit


@pytest.mark.timeout(30)
def test_a_second_writer_in_another_process_fails_naming_the_holder(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with (
        pytest.raises(
            LockedError,
            match=rf"another newsrec job \(pid {holder.pid}, 'ingest'\) is writing to "
            rf".*wait for it to finish or retry",
        ),
        WriterLock(tmp_path, purpose="reindex"),
    ):
        pass


@pytest.mark.timeout(30)
def test_waiting_gives_up_after_the_wait(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    with pytest.raises(LockedError), WriterLock(tmp_path, wait=0.3):
        pass
    assert 0.25 <= time.monotonic() - started < 5


@pytest.mark.timeout(30)
def test_waiting_acquires_once_the_holder_finishes(tmp_path: Path) -> None:
    proc = start_holder(tmp_path, "0.3")
    with WriterLock(tmp_path, wait=20) as lock:
        assert lock.held
    proc.communicate(timeout=10)


def test_the_lock_can_be_taken_again_after_release(tmp_path: Path) -> None:
    with WriterLock(tmp_path):
        pass
    with WriterLock(tmp_path) as lock:
        assert lock.held
    assert not lock.held


def test_a_second_lock_in_the_same_process_fails(tmp_path: Path) -> None:
    with (
        WriterLock(tmp_path, purpose="ingest"),
        pytest.raises(LockedError, match=rf"pid {os.getpid()}, 'ingest'"),
        WriterLock(tmp_path),
    ):
        pass


def test_the_lock_file_names_the_holder_while_held(tmp_path: Path) -> None:
    with WriterLock(tmp_path, purpose="reindex") as lock:
        text = lock.path.read_text()
        assert str(os.getpid()) in text
        assert "reindex" in text
    assert lock.path.read_text() == ""


def test_a_negative_wait_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="wait must be a non-negative number"):
        WriterLock(tmp_path, wait=-1)
