"""Broken disks: a full disk and a read-only home get one line naming the cause, exit 2, and
nothing is damaged.

The home lives on a small tmpfs filled to within a few KiB of its end, or on a read-only bind
mount of a copy; both need root (or a mount namespace) and are skipped with the reason where
mounting is refused. Every mount is undone in a ``finally``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_EVENTS
from tests.reliability.support import (
    PROBE_IDS,
    Served,
    cli_env,
    errors_of,
    live_ids,
    run_newsrec,
    sample_rows,
    served,
    warnings_of,
)

#: Left free on the full disk: room for SQLite to start a transaction, not to finish it.
LEFT_FREE = 48 << 10


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def _mounted(where: Path, *args: str) -> Iterator[Path]:
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting needs root and mount(8); not available here")
    where.mkdir(parents=True, exist_ok=True)
    result = _mount(*args, str(where))
    if result.returncode != 0:
        pytest.skip(f"mounting is not allowed here: {result.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


@contextmanager
def _full_disk(tmp_path: Path, template: Path) -> Iterator[tuple[Path, Path, Served]]:
    """A copy of ``template`` on a 16 MiB tmpfs with LEFT_FREE bytes free, once it has been
    opened as the service opens it; (home, filler, what it served)."""
    with _mounted(tmp_path / "tmpfs", "-t", "tmpfs", "-o", "size=16m", "tmpfs") as disk:
        home = disk / "home"
        shutil.copytree(template, home)
        before = served(home)
        stats = os.statvfs(disk)
        filler = disk / "filler"
        with filler.open("wb") as handle:
            handle.truncate(0)
            handle.write(b"\0" * (stats.f_bavail * stats.f_frsize - LEFT_FREE))
        yield home, filler, before


@contextmanager
def _read_only_copy(tmp_path: Path, template: Path) -> Iterator[Path]:
    """A copy of ``template`` seen through a read-only bind mount."""
    source = tmp_path / "source"
    shutil.copytree(template, source / "home")
    with _mounted(tmp_path / "ro", "--bind", str(source)) as view:
        result = _mount("-o", "remount,ro,bind", str(view))
        if result.returncode != 0:
            pytest.skip(f"read-only remount is not allowed here: {result.stderr.strip()}")
        yield view / "home"


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("newsrec: error:")]


def _assert_one_line(result: subprocess.CompletedProcess[str], cause: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = _error_lines(result.stderr)
    assert len(lines) == 1 and cause in lines[0], result.stderr[-2000:]
    assert "cannot read" not in lines[0] and "backup" not in lines[0], lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_articles(path: Path, n: int) -> Path:
    import json

    rows = sample_rows()
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            row = dict(rows[i % len(rows)], id=f"disk-{i:04d}")
            row["title"] = f"{row['title']} (part {i})"
            out.write(json.dumps(row) + "\n")
    return path


@pytest.mark.slow
def test_ingest_on_a_full_disk_fails_in_one_line_and_damages_nothing(
    sample_home_template: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    articles = _new_articles(tmp_path / "new.jsonl", 100)
    env = cli_env(NEWSREC_EMBED_BACKEND="torch")
    with _full_disk(tmp_path, sample_home_template) as (home, filler, before):
        ids_before = live_ids(home)
        result = run_newsrec("ingest", articles, "--home", home, env=env)
        _assert_one_line(result, "the disk is full (ENOSPC)")
        filler.unlink()
        assert errors_of(home) == []
        assert live_ids(home) == ids_before
        assert served(home).same_lists(before)
        rerun = run_newsrec("ingest", articles, "--home", home, env=env)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert len(live_ids(home)) == len(ids_before) + 100
    ledger["full-disk jobs"] += 1


@pytest.mark.slow
def test_events_and_reindex_on_a_full_disk_fail_in_one_line_and_damage_nothing(
    sample_home_template: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    with _full_disk(tmp_path, sample_home_template) as (home, filler, before):
        current = (home / "index" / "CURRENT").read_text()
        events = run_newsrec("events", SAMPLE_EVENTS, "--home", home)
        _assert_one_line(events, "the disk is full (ENOSPC)")
        reindex = run_newsrec("reindex", "--home", home)
        _assert_one_line(reindex, "the disk is full (ENOSPC)")
        assert (home / "index" / "CURRENT").read_text() == current
        assert not [p for p in (home / "index").iterdir() if p.name.startswith(".")]
        filler.unlink()
        assert errors_of(home) == []
        assert served(home).same_lists(before)
        assert run_newsrec("events", SAMPLE_EVENTS, "--home", home).returncode == 0
    ledger["full-disk jobs"] += 2


@pytest.mark.slow
def test_a_read_only_home_is_read_by_the_doctor_and_refused_by_writers_in_one_line(
    sample_home_template: Path, tmp_path: Path, ledger: Counter[str]
) -> None:
    with _read_only_copy(tmp_path, sample_home_template) as home:
        catalogue = home / "catalogue.sqlite"
        digest = _digest(catalogue)
        doctor = run_newsrec("doctor", "--home", home)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "healthy" in doctor.stdout and "UNHEALTHY" not in doctor.stdout
        assert errors_of(home) == []
        assert any("read-only (EROFS)" in w for w in warnings_of(home))
        for command in (
            ["events", SAMPLE_EVENTS],
            ["reindex"],
            ["status"],
            ["related", PROBE_IDS[0]],
        ):
            _assert_one_line(
                run_newsrec(*command, "--home", home), "the file system is read-only (EROFS)"
            )
        assert _digest(catalogue) == digest
    ledger["read-only home commands"] += 5
