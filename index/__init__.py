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
from index.errors import (
    CatalogueError,
    DiskError,
    FormatVersionError,
    IndexLoadError,
    LockedError,
    StorageError,
)
from index.flat import FlatIndex
from index.hnsw import HNSWIndex
from index.locking import WriterLock
from index.manifest import FORMAT_VERSION, Manifest
from index.store import IndexStore, IndexVersion
from index.vectors import INDEX_KINDS, VectorIndex, make_index

__all__ = [
    "FORMAT_VERSION",
    "INDEX_KINDS",
    "ArticleRecord",
    "Catalogue",
    "CatalogueError",
    "Change",
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
    "make_index",
]
