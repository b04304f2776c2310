"""Exceptions raised by the storage layer.

Every message names the file or input at fault and the problem, so that a CLI can print it as is.
"""

from __future__ import annotations

__all__ = [
    "CatalogueError",
    "CatalogueUnavailable",
    "DiskError",
    "FormatVersionError",
    "IndexLoadError",
    "LockedError",
    "StorageError",
]


class StorageError(Exception):
    """Base class for every error raised by the `index` package."""


class IndexLoadError(StorageError, ValueError):
    """An index on disk is damaged, incomplete or does not match what was expected."""


class FormatVersionError(IndexLoadError):
    """A file was written by a newer newsrec whose format this version cannot read."""


class CatalogueError(StorageError):
    """The article catalogue was given bad input or is in an unusable state."""


class CatalogueUnavailable(CatalogueError):
    """The catalogue's database server cannot be reached (stopped, refused, connection lost).

    A passing condition, unlike the other catalogue errors: the same call may work once the
    server is back, with nothing reopened. The message names the URL without its password.
    """


class LockedError(StorageError):
    """Another newsrec job holds the writer lock."""


class DiskError(StorageError):
    """A write failed because of the disk, not the file: it is full or mounted read-only.

    ``errno`` is ENOSPC, EDQUOT or EROFS; the message names the file, the cause and the fix.
    """

    def __init__(self, message: str, number: int) -> None:
        super().__init__(message)
        self.errno = number
        self.message = message

    def __str__(self) -> str:
        return self.message
