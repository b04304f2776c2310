"""Exceptions raised by the storage layer.

Every message names the file or input at fault and the problem, so that a CLI can print it as is.
"""

from __future__ import annotations

__all__ = [
    "CatalogueError",
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


class LockedError(StorageError):
    """Another newsrec job holds the writer lock."""
