"""VectorRows: float32 rows by position, a memory-mapped base plus rows appended in memory."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from index import IndexLoadError
from index.rows import VectorRows

ROWS = np.arange(12, dtype=np.float32).reshape(4, 3)  # row i holds 3i, 3i+1, 3i+2


def test_appended_rows_are_read_back_by_position() -> None:
    rows = VectorRows(3)
    rows.append(ROWS[:1])
    rows.append(ROWS[1:])
    assert len(rows) == 4
    np.testing.assert_array_equal(rows.take(np.array([3, 0, 2])), ROWS[[3, 0, 2]])


def test_saved_rows_open_memory_mapped_and_read_the_same(tmp_path: Path) -> None:
    rows = VectorRows(3)
    rows.append(ROWS)
    rows.save(tmp_path / "rows.npy")
    opened = VectorRows.open(tmp_path / "rows.npy", 3, 4)
    np.testing.assert_array_equal(opened.take(np.arange(4)), ROWS)
    np.testing.assert_array_equal(np.load(tmp_path / "rows.npy"), ROWS)


def test_rows_appended_after_open_follow_the_mapped_ones_and_are_saved_too(
    tmp_path: Path,
) -> None:
    first = VectorRows(3)
    first.append(ROWS[:2])
    first.save(tmp_path / "a.npy")
    opened = VectorRows.open(tmp_path / "a.npy", 3, 2)
    opened.append(ROWS[2:])
    np.testing.assert_array_equal(opened.take(np.array([1, 3, 2, 0])), ROWS[[1, 3, 2, 0]])
    opened.save(tmp_path / "b.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), ROWS)


def test_open_refuses_rows_of_another_shape_naming_the_file(tmp_path: Path) -> None:
    np.save(tmp_path / "rows.npy", ROWS)
    with pytest.raises(IndexLoadError, match=r"rows\.npy: holds float32 \(4, 3\), expected"):
        VectorRows.open(tmp_path / "rows.npy", 3, 5)


def test_open_refuses_rows_that_are_not_float32(tmp_path: Path) -> None:
    np.save(tmp_path / "rows.npy", ROWS.astype(np.float64))
    with pytest.raises(IndexLoadError, match=r"rows\.npy: holds float64"):
        VectorRows.open(tmp_path / "rows.npy", 3, 4)


def test_open_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(IndexLoadError, match=r"rows\.npy: missing"):
        VectorRows.open(tmp_path / "rows.npy", 3, 4)


def _mapped_kib(file: Path) -> int:
    """Resident KiB of this process's mappings of ``file`` (from /proc/self/smaps)."""
    total, current = 0, ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if not parts[0].endswith(":"):
            current = parts[5] if len(parts) >= 6 else ""
        elif parts[0] == "Rss:" and current == str(file):
            total += int(parts[1])
    return total


def _many_rows(tmp_path: Path, count: int = 20_000, dim: int = 64) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(0).normal(size=(count, dim)).astype(np.float32)
    rows = VectorRows(dim)
    rows.append(data)
    rows.save(tmp_path / "rows.npy")
    return tmp_path / "rows.npy", data


def test_a_requests_worth_of_rows_is_read_without_mapping_the_file(tmp_path: Path) -> None:
    file, data = _many_rows(tmp_path)
    opened = VectorRows.open(file, 64, len(data))
    positions = np.random.default_rng(1).choice(len(data), 500, replace=False)
    np.testing.assert_array_equal(opened.take(positions), data[positions])
    assert _mapped_kib(file) == 0


def test_a_batch_of_rows_is_read_through_the_mapping_and_equals_row_reads(
    tmp_path: Path,
) -> None:
    file, data = _many_rows(tmp_path)
    opened = VectorRows.open(file, 64, len(data))
    positions = np.random.default_rng(2).permutation(len(data))[:10_000]
    np.testing.assert_array_equal(opened.take(positions), data[positions])
    assert _mapped_kib(file) > 0


def test_opened_rows_pickle_as_plain_rows_for_another_process(tmp_path: Path) -> None:
    file, data = _many_rows(tmp_path, count=100, dim=4)
    opened = VectorRows.open(file, 4, 100)
    opened.append(np.ones((1, 4), dtype=np.float32))
    copy = pickle.loads(pickle.dumps(opened))
    file.unlink()  # the copy needs nothing from the file
    np.testing.assert_array_equal(copy.take(np.arange(100)), data)
    np.testing.assert_array_equal(copy.take(np.array([100])), np.ones((1, 4)))
