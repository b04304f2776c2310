"""Damaged files: loading refuses naming the file and the problem, a running service keeps the
version it has, and ``newsrec doctor`` finds and explains each damage."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from index import Catalogue, IndexStore, StorageError, WriterLock
from recommender.operations.doctor import examine
from recommender.operations.indexing import publish_index
from recommender.serving.engine import Engine
from tests.conftest import LiveServer, make_settings
from tests.reliability.support import invoke_newsrec
from tests.service.servers import lists_only

# A damage takes the version directory to damage and the home, and returns the file at fault
# and the words that must appear in the refusal.
Damage = Callable[[Path, Path], tuple[Path, str]]


def _edit_manifest(version_dir: Path, **changes: object) -> Path:
    file = version_dir / "manifest.json"
    data = json.loads(file.read_text())
    data.update(changes)
    file.write_text(json.dumps(data, indent=2))
    return file


def truncated_index(version_dir: Path, home: Path) -> tuple[Path, str]:
    file = version_dir / "vectors.faiss"
    os.truncate(file, file.stat().st_size // 2)
    return file, "checksum mismatch"


def bit_flipped_index(version_dir: Path, home: Path) -> tuple[Path, str]:
    file = version_dir / "vectors.faiss"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x04
    file.write_bytes(bytes(data))
    return file, "checksum mismatch"


def manifest_count_disagrees(version_dir: Path, home: Path) -> tuple[Path, str]:
    return _edit_manifest(version_dir, count=81), "says 81 vectors, index holds 80"


def manifest_dimension_disagrees(version_dir: Path, home: Path) -> tuple[Path, str]:
    return _edit_manifest(version_dir, dim=383), "dimension 383"


def manifest_model_disagrees(version_dir: Path, home: Path) -> tuple[Path, str]:
    return _edit_manifest(version_dir, model="someone-elses-model"), "model 'someone-elses-model'"


def index_format_newer(version_dir: Path, home: Path) -> tuple[Path, str]:
    return _edit_manifest(version_dir, format_version=2), "newer newsrec (format 2"


def catalogue_format_newer(version_dir: Path, home: Path) -> tuple[Path, str]:
    file = home / "catalogue.sqlite"
    with sqlite3.connect(file) as conn:
        newer = Catalogue.SCHEMA_VERSION + 1
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(newer),))
    conn.close()
    return file, f"newer newsrec (format {Catalogue.SCHEMA_VERSION + 1}"


def events_format_newer(version_dir: Path, home: Path) -> tuple[Path, str]:
    file = home / "catalogue.sqlite"
    with sqlite3.connect(file) as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('events_schema', '2')")
    conn.close()
    return file, "events tables written by a newer newsrec (format 2"


def catalogue_row_damaged(version_dir: Path, home: Path) -> tuple[Path, str]:
    # Overwrite one byte of a stored title with a byte that is never valid UTF-8.
    file = home / "catalogue.sqlite"
    data = bytearray(file.read_bytes())
    at = data.find(b"Harbour")
    assert at > 0, "the sample title to damage is not in the main database file"
    data[at + 1] = 0xFF
    file.write_bytes(bytes(data))
    return file, "decode"


def current_pointer_garbage(version_dir: Path, home: Path) -> tuple[Path, str]:
    file = home / "index" / "CURRENT"
    file.write_text("garbage\n")
    return file, "does not name a version"


DAMAGES: list[Damage] = [
    truncated_index,
    bit_flipped_index,
    manifest_count_disagrees,
    manifest_dimension_disagrees,
    manifest_model_disagrees,
    index_format_newer,
    catalogue_format_newer,
    events_format_newer,
    catalogue_row_damaged,
    current_pointer_garbage,
]
# Damages a newly published version can carry (the rest concern the catalogue or CURRENT).
VERSION_DAMAGES = DAMAGES[:6]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_loading_a_damaged_home_refuses_naming_the_file_and_the_problem(
    sample_home: Path, damage: Damage, ledger: Counter[str]
) -> None:
    file, problem = damage(sample_home / "index" / "v000001", sample_home)
    ledger["faults: damaged files"] += 1
    with pytest.raises(StorageError) as refused:
        Engine(make_settings(sample_home)).close()
    assert str(file) in str(refused.value)
    assert problem in str(refused.value)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_doctor_finds_and_explains_each_damage(sample_home: Path, damage: Damage) -> None:
    assert examine(make_settings(sample_home)).findings == []
    file, problem = damage(sample_home / "index" / "v000001", sample_home)
    checkup = examine(make_settings(sample_home))
    assert not checkup.healthy
    errors = [f for f in checkup.findings if f.severity == "error"]
    assert errors, checkup.findings
    assert all(str(file) in f.message and problem in f.message for f in errors), errors
    assert all(f.fix for f in errors)


def test_doctor_prints_one_line_per_problem_and_exits_non_zero(sample_home: Path) -> None:
    bit_flipped_index(sample_home / "index" / "v000001", sample_home)
    (sample_home / "index" / ".tmp-interrupted").mkdir()
    result = invoke_newsrec("doctor", "--home", sample_home)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines[:-1]] == ["error", "warning"]
    assert "vectors.faiss: checksum mismatch" in lines[0]
    assert ".tmp-interrupted: left over" in lines[1]
    assert "UNHEALTHY" in lines[-1]
    checked = invoke_newsrec("status", "--check", "--home", sample_home)
    assert checked.returncode == 1
    assert "vectors.faiss: checksum mismatch" in checked.stdout


def test_doctor_exits_zero_on_a_healthy_home(sample_home: Path) -> None:
    result = invoke_newsrec("doctor", "--home", sample_home)
    assert result.returncode == 0, result.stdout
    assert "healthy; articles 80" in result.stdout


def test_the_cli_refuses_a_damaged_index_with_one_line_naming_the_file(sample_home: Path) -> None:
    file, _ = truncated_index(sample_home / "index" / "v000001", sample_home)
    result = invoke_newsrec("related", "sample-001", "--home", sample_home)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"newsrec: error: {file}: checksum mismatch (file damaged or truncated)"
    )


def _publish_damaged_copy(home: Path, name: str, damage: Damage) -> Path:
    """Copy the served version under a new name, damage it, then point CURRENT at it."""
    index_root = home / "index"
    target = index_root / name
    shutil.copytree(index_root / "v000001", target)
    damage(target, home)
    pointer = index_root / ".CURRENT.tmp-test"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_root / "CURRENT")
    return target


def test_a_running_service_keeps_serving_its_version_when_a_damaged_one_is_published(
    sample_home: Path, ledger: Counter[str]
) -> None:
    server = LiveServer(sample_home)
    try:
        server.wait_ready()
        url = server.url + "/articles/sample-001/related?k=5"
        baseline = lists_only(httpx.get(url, timeout=10).json())
        assert baseline["index_version"] == "v000001"
        for number, damage in enumerate(VERSION_DAMAGES, start=2):
            target = _publish_damaged_copy(sample_home, f"v{number:06d}", damage)
            ledger["faults: damaged versions published under a running service"] += 1
            seen = _wait_for_log(server, str(target), timeout=10)
            assert seen, f"the service never reported {target}: {server.log.read_text()[-800:]}"
            response = httpx.get(url, timeout=10)
            assert response.status_code == 200
            assert lists_only(response.json()) == baseline
        time.sleep(1.0)  # five more polls of the follower: each refusal is still logged once
        log = server.log.read_text()
        for number in range(2, 2 + len(VERSION_DAMAGES)):
            assert log.count(str(sample_home / "index" / f"v{number:06d}")) == 1
        # A good version published afterwards is picked up: the service kept following.
        settings = make_settings(sample_home)
        with WriterLock(sample_home), Catalogue(settings.catalogue_path) as catalogue:
            good = publish_index(catalogue, IndexStore(settings.index_root), settings)
        deadline = time.monotonic() + 10
        while httpx.get(url, timeout=10).json()["index_version"] != good.name:
            assert time.monotonic() < deadline, "the service never loaded the good version"
            time.sleep(0.1)
    finally:
        server.stop()


def test_a_running_service_keeps_serving_when_its_own_files_are_damaged(
    sample_home: Path, ledger: Counter[str]
) -> None:
    server = LiveServer(sample_home)
    try:
        server.wait_ready()
        url = server.url + "/articles/sample-001/related?k=5"
        baseline = lists_only(httpx.get(url, timeout=10).json())
        truncated_index(sample_home / "index" / "v000001", sample_home)
        ledger["faults: damaged files"] += 1
        time.sleep(0.6)
        assert lists_only(httpx.get(url, timeout=10).json()) == baseline
    finally:
        server.stop()


def _wait_for_log(server: LiveServer, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False
