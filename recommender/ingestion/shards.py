"""Vector shards: articles with their embeddings, in Parquet, made by ``newsrec embed``.

A shard holds the columns ``id, content_hash, model, dim, vector`` (a fixed-size list of
float32) and the article's fields as :func:`~recommender.ingestion.articles.article_from_mapping`
reads them back (``title, body, url, section, tags, language, published_at, popularity,
author, kind, fields``), so that ``newsrec ingest --vectors`` loads articles and vectors without
the model. ``model`` is :func:`~recommender.embedding.embedder.vector_identity` of the settings
that embedded it; ``content_hash`` is taken with their ``embedding_key``.

Shards are written to a hidden temporary name, flushed and renamed (:func:`write_shard`), and
readers list visible ``*.parquet`` names only, so a half-written shard is never read. The
schema carries a format version, and pages carry checksums that readers verify.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from index import ArticleRecord
from index.durable import fsync_path
from recommender.ingestion.articles import InvalidArticle, article_from_mapping

__all__ = [
    "FORMAT_VERSION",
    "ShardError",
    "ShardInfo",
    "ShardMismatch",
    "check_identity",
    "new_shard_path",
    "read_shard",
    "shard_info",
    "shard_keys",
    "shard_paths",
    "shard_schema",
    "shard_table",
    "write_shard",
]

#: The shard format; a reader refuses shards of a format it does not know.
FORMAT_VERSION = 1
_SUFFIX = ".parquet"
_META_FORMAT = b"newsrec.shard.format"
_META_MODEL = b"newsrec.shard.model"
_META_DIM = b"newsrec.shard.dim"
_META_KEY = b"newsrec.shard.embedding_key"


class ShardError(ValueError):
    """A shard that cannot be read (damaged, not a shard, an unknown format); names the file."""


class ShardMismatch(ValueError):
    """Shards whose vectors were made by another model, dimension or input length."""


@dataclass(frozen=True, slots=True)
class ShardInfo:
    """What a shard's footer says: which vectors it holds, and how many rows."""

    path: Path
    model: str
    dim: int
    rows: int
    embedding_key: str  # ``Settings.embedding_key`` of the run that made it


def shard_schema(dim: int) -> pa.Schema:
    """The Arrow schema of a shard of ``dim``-dimensional vectors."""
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("content_hash", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("dim", pa.int32(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dim), nullable=False),
            pa.field("title", pa.string(), nullable=False),
            pa.field("body", pa.string()),
            pa.field("url", pa.string()),
            pa.field("section", pa.string()),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("language", pa.string()),
            pa.field("published_at", pa.timestamp("us", tz="UTC")),
            pa.field("popularity", pa.float64()),
            pa.field("author", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("fields", pa.string()),  # the article's own fields, as a JSON object
        ]
    )


def shard_table(
    records: Sequence[ArticleRecord],
    vectors: npt.NDArray[np.float32],
    model: str,
    embedding_key: str,
) -> pa.Table:
    """A shard's table: ``records`` with their ``vectors`` (one row each) made by ``model``,
    their content hashes taken with ``embedding_key``.

    Raises:
        ValueError: the vectors are not one float row per record.
    """
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(records) or matrix.shape[1] == 0:
        raise ValueError(
            f"expected one vector per record ({len(records)}), got an array of shape {matrix.shape}"
        )
    dim = int(matrix.shape[1])
    rows = len(records)
    columns: dict[str, Any] = {
        "id": [r.id for r in records],
        "content_hash": [r.content_hash for r in records],
        "model": [model] * rows,
        "dim": [dim] * rows,
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), dim),
        "title": [r.title for r in records],
        "body": [r.body for r in records],
        "url": [r.url for r in records],
        "section": [r.section for r in records],
        "tags": [list(r.tags) for r in records],
        "language": [r.language for r in records],
        "published_at": [r.published_at for r in records],
        "popularity": [r.popularity for r in records],
        "author": [r.author for r in records],
        "kind": [r.kind for r in records],
        "fields": [json.dumps(dict(r.fields)) if r.fields else None for r in records],
    }
    schema = shard_schema(dim).with_metadata(
        {
            _META_FORMAT: str(FORMAT_VERSION).encode(),
            _META_MODEL: model.encode("utf-8"),
            _META_DIM: str(dim).encode(),
            _META_KEY: embedding_key.encode("utf-8"),
        }
    )
    arrays = [
        value if isinstance(value, pa.Array) else pa.array(value, type=schema.field(name).type)
        for name, value in columns.items()
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def new_shard_path(directory: Path) -> Path:
    """A fresh shard name in ``directory``; names sort in the order they were made."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return directory / f"shard-{stamp}-{time.monotonic_ns():020d}-{secrets.token_hex(4)}{_SUFFIX}"


def write_shard(path: Path, table: pa.Table) -> None:
    """Write ``table`` to ``path`` atomically: a hidden temporary file, flushed, then renamed.

    A reader listing the directory (:func:`shard_paths`) never sees a partial shard.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd", write_page_checksum=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def shard_paths(directory: Path) -> list[Path]:
    """The shards in ``directory``, oldest first (hidden temporary files are not shards)."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.endswith(_SUFFIX) and not p.name.startswith(".")
    )


def shard_info(path: Path) -> ShardInfo:
    """Read a shard's footer: its model, dimension and row count.

    Raises:
        ShardError: the file is not a readable shard of a known format.
    """
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise ShardError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    meta = schema.metadata or {}
    version = meta.get(_META_FORMAT)
    if version is None or any(key not in meta for key in (_META_MODEL, _META_DIM, _META_KEY)):
        raise ShardError(f"{path}: not a newsrec vector shard (no shard metadata)")
    if version != str(FORMAT_VERSION).encode():
        raise ShardError(
            f"{path}: shard format {version.decode(errors='replace')}, this newsrec reads "
            f"format {FORMAT_VERSION}"
        )
    try:
        dim = int(meta[_META_DIM])
    except ValueError:
        raise ShardError(f"{path}: damaged shard metadata (dimension)") from None
    return ShardInfo(
        path,
        model=meta[_META_MODEL].decode("utf-8"),
        dim=dim,
        rows=metadata.num_rows,
        embedding_key=meta[_META_KEY].decode("utf-8"),
    )


def check_identity(
    info: ShardInfo,
    model: str,
    embedding_key: str,
    dim: int | None,
    dim_source: str = "the catalogue",
) -> None:
    """Refuse a shard made by another model than ``model`` or with another ``embedding_key``
    (model and input length), or of another dimension than ``dim`` (``None``: any), the
    dimension of ``dim_source``.

    Raises:
        ShardMismatch: in one line naming the shard and both models or dimensions.
    """
    if info.model != model:
        raise ShardMismatch(
            f"{info.path}: vectors made by model {info.model!r}, but this home embeds with "
            f"{model!r}; embed them again with this home's settings"
        )
    if info.embedding_key != embedding_key:
        raise ShardMismatch(
            f"{info.path}: vectors made with model|max_seq_length {info.embedding_key!r}, but "
            f"this home embeds with {embedding_key!r}; embed again with these settings"
        )
    if dim is not None and info.dim != dim:
        raise ShardMismatch(
            f"{info.path}: vectors of dimension {info.dim}, but {dim_source} has dimension {dim}"
        )


def shard_keys(path: Path) -> set[tuple[str, str]]:
    """The ``(id, content_hash)`` pairs a shard holds, read from those two columns only.

    Raises:
        ShardError: the shard cannot be read.
    """
    try:
        table = pq.read_table(path, columns=["id", "content_hash"], page_checksum_verification=True)
    except Exception as exc:
        raise ShardError(f"{path}: damaged shard ({_first_line(exc)})") from None
    ids, hashes = table.column("id").to_pylist(), table.column("content_hash").to_pylist()
    return set(zip(ids, hashes, strict=True))


def read_shard(
    path: Path, info: ShardInfo, *, embedding_key: str
) -> tuple[list[ArticleRecord], npt.NDArray[np.float32]]:
    """The articles of a shard, validated as ingest validates them, and their vectors.

    ``embedding_key`` is ``Settings.embedding_key``: every row's content hash is taken again
    with it, so vectors made from another input length are refused rather than stored as if
    they were this home's.

    Raises:
        ShardError: the shard is damaged (a page fails its checksum, a row is invalid).
        ShardMismatch: a row's vector was made with other settings than the home's.
    """
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except Exception as exc:
        raise ShardError(f"{path}: damaged shard ({_first_line(exc)})") from None
    if table.column("model").unique().to_pylist() not in ([], [info.model]):
        raise ShardError(f"{path}: damaged shard (its rows name another model than its footer)")
    vector_type = table.schema.field("vector").type
    if not pa.types.is_fixed_size_list(vector_type) or vector_type.list_size != info.dim:
        raise ShardError(f"{path}: damaged shard (vector column of type {vector_type})")
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = np.ascontiguousarray(flat, dtype=np.float32).reshape(table.num_rows, info.dim)
    records: list[ArticleRecord] = []
    for number, row in enumerate(_article_rows(table), start=1):
        try:
            record = article_from_mapping(row, embedding_key=embedding_key)
        except InvalidArticle as exc:
            raise ShardError(f"{path}: row {number} is not a valid article ({exc})") from None
        if record.content_hash != row["content_hash"]:
            raise ShardMismatch(
                f"{path}: article {record.id!r} was embedded with other settings than this "
                f"home's ({embedding_key!r}: another model or max_seq_length); embed again"
            )
        records.append(record)
    return records, vectors


def _article_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    names = [n for n in table.column_names if n not in ("vector", "model", "dim")]
    for batch in table.select(names).to_batches():
        for row in batch.to_pylist():
            published = row.get("published_at")
            if published is not None and published.tzinfo is None:
                row["published_at"] = published.replace(tzinfo=UTC)
            yield row


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
