"""Float32 vectors by position: a read-only base in a file, plus rows appended in memory since.

An HNSW graph that searches compressed codes still needs each article's exact vector, to rescore
its best candidates and to give vectors back (``reconstruct``). Those reads touch a few hundred
rows per request, so the rows stay in a ``.npy`` file: the operating system keeps the pages read
in its page cache (shared by every process serving the same version, and dropped under memory
pressure) instead of each process holding a private copy of every vector.

How a row is read from the file depends on how many are read at once. A request's few hundred
are read with one ``pread`` each: through a memory mapping, the kernel would map the 64 KB around
each row read (its fault-around) into the process, so that a few hundred requests would map the
whole file and count it as the process's resident memory. Batch jobs (the neighbour table)
read thousands of rows at a time, through the mapping, where one copy without a system call
per row is several times faster.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import IndexLoadError

__all__ = ["FileRows", "VectorRows"]

_F32 = npt.NDArray[np.float32]

# Rows read at once from which the mapping is used rather than a pread per row (see above).
_MAPPED_FROM = 4_096


class VectorRows:
    """Float32 rows of dimension ``dim`` addressed by position (0 .. len - 1)."""

    def __init__(self, dim: int, base: _F32 | FileRows | None = None) -> None:
        """Rows of ``base`` (read-only: in memory, or a file's, :class:`FileRows`), then any
        appended ones."""
        self._dim = dim
        self._base = base if base is not None else np.empty((0, dim), dtype=np.float32)
        self._tail: _F32 = np.empty((0, dim), dtype=np.float32)  # capacity; _added rows used
        self._added = 0

    def __len__(self) -> int:
        return len(self._base) + self._added

    @property
    def dim(self) -> int:
        """Dimension of the rows."""
        return self._dim

    def append(self, vectors: _F32) -> None:
        """Append ``vectors`` (n, dim) after the last row."""
        need = self._added + len(vectors)
        if need > len(self._tail):
            # Doubling keeps a stream of small appends (live upserts) linear overall.
            grown = np.empty((max(need, 2 * len(self._tail), 64), self._dim), dtype=np.float32)
            grown[: self._added] = self._tail[: self._added]
            self._tail = grown
        self._tail[self._added : need] = vectors
        self._added = need

    def take(self, positions: npt.NDArray[np.int64]) -> _F32:
        """A copy of the rows at ``positions`` (each in 0 .. len - 1), in that order."""
        first = len(self._base)
        if self._added == 0:
            return self._from_base(positions)
        if first == 0:
            return self._tail[positions]
        out = np.empty((len(positions), self._dim), dtype=np.float32)
        old = positions < first
        out[old] = self._from_base(positions[old])
        out[~old] = self._tail[positions[~old] - first]
        return out

    def _from_base(self, positions: npt.NDArray[np.int64]) -> _F32:
        # A file's rows are read by pread or through the mapping, as FileRows decides.
        return np.asarray(self._base[positions], dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (e.g. into Ray's object store) as plain rows: a descriptor or a mapping
        # means nothing in another process.
        return {"dim": self._dim, "rows": self.take(np.arange(len(self), dtype=np.int64))}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._dim = state["dim"]
        self._base = state["rows"]
        self._tail = np.empty((0, self._dim), dtype=np.float32)
        self._added = 0

    def save(self, file: Path) -> None:
        """Write every row to ``file`` as one (len, dim) float32 ``.npy`` array."""
        header = {"descr": "<f4", "fortran_order": False, "shape": (len(self), self._dim)}
        with file.open("wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            # In slices: the rows of a large index need not be copied into one array first.
            for part in (self._base, self._tail[: self._added]):
                for start in range(0, len(part), 65_536):
                    handle.write(np.ascontiguousarray(part[start : start + 65_536]).tobytes())

    @classmethod
    def open(cls, file: Path, dim: int, count: int) -> VectorRows:
        """The rows of ``file`` (written by :meth:`save`), memory-mapped read-only.

        Raises:
            IndexLoadError: the file is missing, unreadable, or not ``count`` float32 rows of
                ``dim``.
        """
        if not file.is_file():
            raise IndexLoadError(f"{file}: missing")
        try:
            base = np.load(file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexLoadError(f"{file}: not a readable .npy array ({exc})") from exc
        if base.dtype != np.float32 or base.shape != (count, dim) or not base.flags.c_contiguous:
            raise IndexLoadError(
                f"{file}: holds {base.dtype} {base.shape}, expected float32 ({count}, {dim})"
            )
        if not isinstance(base, np.memmap) or not base.size:
            return cls(dim, base.view(np.ndarray))  # no rows: nothing was mapped
        return cls(dim, FileRows(base))


class FileRows:
    """Read-only rows of a memory-mapped ``.npy`` array of any dtype (a :class:`VectorRows`
    base, the neighbour table's arrays): one ``pread`` per row for the few rows a request
    reads, the mapping for more (see the module docstring: the fault-around of a mapping would
    count the whole file as the process's memory over a few hundred requests).

    Indexed like the array by a position or an array of positions; anything else (slices,
    masks) and ``np.asarray`` go through the mapping.
    """

    def __init__(self, mapped: np.memmap[Any, Any]) -> None:
        """Rows of ``mapped``, a C-ordered array ``np.load(..., mmap_mode="r")`` returned."""
        if mapped.filename is None or not mapped.flags.c_contiguous or mapped.ndim < 1:
            raise ValueError("FileRows needs a C-ordered array memory-mapped from a file")
        self._array: np.ndarray[Any, Any] = mapped.view(np.ndarray)
        self._row_shape: tuple[int, ...] = tuple(mapped.shape[1:])
        self._row_bytes = int(mapped.itemsize * int(np.prod(self._row_shape, dtype=np.int64)))
        self._file = Path(mapped.filename)
        self._descriptor = os.open(self._file, os.O_RDONLY)
        weakref.finalize(self, os.close, self._descriptor)
        self._start = int(mapped.offset)

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return tuple(self._array.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The array's dtype."""
        dtype: np.dtype[Any] = self._array.dtype
        return dtype

    @property
    def ndim(self) -> int:
        """The array's number of dimensions."""
        return int(self._array.ndim)

    def __len__(self) -> int:
        return len(self._array)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        return np.asarray(self._array, dtype=dtype)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled (e.g. into Ray's object store) as a plain array: a descriptor means nothing
        # in another process.
        return (np.array, (np.array(self._array),))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | np.integer):
            return self._take(np.array([int(key)], dtype=np.int64))[0]
        if isinstance(key, np.ndarray) and key.ndim == 1 and key.dtype.kind in "iu":
            return self._take(key.astype(np.int64, copy=False))
        return self._array[key]

    def _take(self, positions: npt.NDArray[np.int64]) -> np.ndarray[Any, Any]:
        n = len(self._array)
        if len(positions) >= _MAPPED_FROM or not self._row_bytes or not len(positions):
            return np.array(self._array[positions])
        if len(positions) and (int(positions.min()) < -n or int(positions.max()) >= n):
            raise IndexError(f"row out of range for {n} rows of {self._file}")
        out = np.empty((len(positions), *self._row_shape), dtype=self._array.dtype)
        view = out.data.cast("B")
        size = self._row_bytes
        for i, position in enumerate(positions.tolist()):
            at = self._start + (position % n) * size
            if os.preadv(self._descriptor, [view[i * size : (i + 1) * size]], at) < size:
                raise IndexLoadError(f"{self._file}: ends before row {position} (truncated?)")
        return out
