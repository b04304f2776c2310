"""Reading and writing faiss index files, with errors that name the file and the reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss

from index.disk import DISK_CAUSES
from index.errors import IndexLoadError, StorageError

__all__ = ["read_faiss", "write_faiss"]


def write_faiss(index: Any, directory: Path, name: str) -> None:
    """Write faiss `index` as `directory/name`; `directory` must already exist."""
    if not directory.is_dir():
        raise StorageError(f"{directory}: not an existing directory; cannot save index into it")
    file = directory / name
    try:
        faiss.write_index(index, str(file))
    except RuntimeError as exc:
        # faiss reports a failed write as text only; give a full or read-only disk its errno
        # back, so that it is told apart from a broken file (see index.disk).
        for number in DISK_CAUSES:
            if os.strerror(number) in str(exc):
                raise OSError(number, os.strerror(number), str(file)) from exc
        raise StorageError(f"{file}: cannot write the faiss index ({_reason(exc)})") from exc


def read_faiss(file: Path) -> Any:
    """Read a faiss index from `file`, raising IndexLoadError if it is missing or unreadable."""
    if not file.is_file():
        raise IndexLoadError(f"{file}: missing")
    try:
        return faiss.read_index(str(file))
    except RuntimeError as exc:
        raise IndexLoadError(f"{file}: not a readable faiss index ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    # faiss prefixes the reason with the C++ function signature and source location, which
    # means nothing to a user; the part after the last "Error: " is the actual reason.
    text = str(exc).strip()
    return text.rsplit("Error: ", 1)[-1] if text else type(exc).__name__
