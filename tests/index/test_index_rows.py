"""VectorRows: float32 rows by position, a memory-mapped base plus rows appended in memory; and
FileRows: read-only rows of any memory-mapped array, read by pread."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from index import IndexLoadError
from index.rows import FileRows, VectorRows

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
    assert opened.take(np.array([], dtype=np.int64)).shape == (0, 64)


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


@pytest.mark.parametrize("dtype", [np.int32, np.float16])
def test_file_rows_read_as_the_array_does_without_mapping_the_file(
    tmp_path: Path, dtype: type
) -> None:
    data = np.random.default_rng(3).integers(-1, 1000, size=(5_000, 100)).astype(dtype)
    file = tmp_path / "table.npy"
    np.save(file, data)
    rows = FileRows(np.load(file, mmap_mode="r"))
    positions = np.random.default_rng(4).choice(len(data), 300, replace=False)
    np.testing.assert_array_equal(rows[positions], data[positions])
    np.testing.assert_array_equal(rows[17], data[17])
    np.testing.assert_array_equal(rows[np.int64(4_999)], data[4_999])
    assert rows.shape == data.shape and rows.dtype == data.dtype and len(rows) == 5_000
    assert _mapped_kib(file) == 0  # a list's row reads never map the table into the process
    np.testing.assert_array_equal(rows[2:5], data[2:5])  # the rest goes through the mapping
    np.testing.assert_array_equal(np.asarray(rows), data)
    assert rows[np.array([], dtype=np.int64)].shape == (0, 100)  # no rows asked: none
    with pytest.raises(IndexError):
        rows[np.array([5_000])]


def test_file_rows_of_a_vector_and_pickled_as_a_plain_array(tmp_path: Path) -> None:
    file = tmp_path / "ids.npy"
    np.save(file, np.arange(50, dtype=np.int64))
    rows = FileRows(np.load(file, mmap_mode="r"))
    assert rows[7] == 7
    np.testing.assert_array_equal(rows[np.array([3, 1])], [3, 1])
    copy = pickle.loads(pickle.dumps(rows))
    file.unlink()
    assert isinstance(copy, np.ndarray)
    np.testing.assert_array_equal(copy, np.arange(50))
