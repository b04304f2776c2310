"""Storage for newsrec: the article catalogue, vector indexes, index versions and locking.

This package knows nothing about embedding models, recommendation or serving; it stores what
it is given and refuses damaged or mismatched data with errors that name the file at fault.
"""

from index.catalogue import (
    ArticleRecord,
    Catalogue,
    Change,
    FieldValue,
    NetChanges,
    UpsertCounts,
)
from index.copying import CopyReport, copy_catalogue
from index.errors import (
    CatalogueError,
    CatalogueUnavailable,
    DiskError,
    FormatVersionError,
    IndexLoadError,
    LockedError,
    StorageError,
)
from index.flat import FlatIndex
from index.hnsw import HNSWIndex
from index.locking import DatabaseLock, WriterLock
from index.manifest import FORMAT_VERSION, Manifest
from index.migration import migrate
from index.store import IndexStore, IndexVersion
from index.targets import CatalogueTarget, is_database_url
from index.vectors import INDEX_KINDS, VectorIndex, make_index

__all__ = [
    "FORMAT_VERSION",
    "INDEX_KINDS",
    "ArticleRecord",
    "Catalogue",
    "CatalogueError",
    "CatalogueTarget",
    "CatalogueUnavailable",
    "Change",
    "CopyReport",
    "DatabaseLock",
    "DiskError",
    "FieldValue",
    "FlatIndex",
    "FormatVersionError",
    "HNSWIndex",
    "IndexLoadError",
    "IndexStore",
    "IndexVersion",
    "LockedError",
    "Manifest",
    "NetChanges",
    "StorageError",
    "UpsertCounts",
    "VectorIndex",
    "WriterLock",
    "copy_catalogue",
    "is_database_url",
    "make_index",
    "migrate",
]
