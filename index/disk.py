"""Broken disks told apart from broken files.

A write that fails because the disk is full (ENOSPC, EDQUOT) or the file system is mounted
read-only (EROFS) says nothing about the files themselves: the operator must free space or
remount, not restore a healthy catalogue from a backup. SQLite hides the cause behind its own
codes ("database or disk is full", "unable to open database file"), so :func:`disk_error` reads
those codes, and the file system's flags where SQLite says only that it could not open a file.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from index.errors import DiskError

__all__ = ["DISK_CAUSES", "disk_error", "on_read_only_file_system"]

#: errno -> the cause in words, for the errors a broken disk (not a broken file) gives.
DISK_CAUSES = {
    errno.ENOSPC: "the disk is full (ENOSPC)",
    errno.EDQUOT: "the disk quota is used up (EDQUOT)",
    errno.EROFS: "the file system is read-only (EROFS)",
}
_FIX = {
    errno.ENOSPC: "free space on it and run the command again",
    errno.EDQUOT: "free space on it and run the command again",
    errno.EROFS: "remount it read-write (or point --home elsewhere) and run the command again",
}
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14


def on_read_only_file_system(path: Path) -> bool:
    """Whether ``path`` (or, if it does not exist, its nearest existing parent) is on a file
    system mounted read-only."""
    path = Path(path).absolute()
    for candidate in (path, *path.parents):
        try:
            return bool(os.statvfs(candidate).f_flag & os.ST_RDONLY)
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return False


def _no_space_left(path: Path) -> bool:
    path = Path(path).absolute()
    for candidate in (path, *path.parents):
        try:
            stats = os.statvfs(candidate)
        except FileNotFoundError:
            continue
        except OSError:
            return False
        return stats.f_bavail == 0
    return False


def _errno_of(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, OSError) and exc.errno in DISK_CAUSES:
        return exc.errno
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code == _SQLITE_FULL:
            return errno.ENOSPC
        if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR):
            if on_read_only_file_system(path):
                return errno.EROFS
            if code == _SQLITE_IOERR and _no_space_left(path):
                return errno.ENOSPC
    return None


def disk_error(exc: BaseException, path: Path | None = None) -> DiskError | None:
    """The :class:`DiskError` behind ``exc`` (or an exception it was raised from), or None.

    ``path`` is the file being worked on when ``exc`` does not name one (SQLite errors never
    do); it is also where the file system is asked whether it is read-only or full.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskError):
            return current
        where = Path(getattr(current, "filename", None) or path or ".")
        number = _errno_of(current, where)
        if number is not None:
            return DiskError(
                f"{where}: cannot write: {DISK_CAUSES[number]}; {_FIX[number]}", number
            )
        current = current.__cause__ or current.__context__
    return None
