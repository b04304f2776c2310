"""Embedding backfill: article files in, Parquet vector shards out, in-process or on Ray.

One pipeline of three stages, run the same way in this process or by Ray Data:

1. read (:func:`read_source`): one file (a local path or any pyarrow filesystem URI) becomes
   rows, each validated by the rules ingest applies (``article_from_mapping``); a rejected row
   keeps its file and line, a row whose ``(id, content hash)`` is already in the shards is
   marked skipped;
2. embed (:class:`EmbedBatches`): one model per worker, loaded once by ``load_embedder`` (the
   path ingest takes), embeds the rows to keep; on Ray it is ``map_batches`` over a pool of
   actors;
3. write (:class:`ShardWriter`, in the driver): the embedded rows go to shards written
   atomically every :data:`SHARD_ROWS` rows, so a job killed midway keeps its finished shards
   and its rerun skips what they hold.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index import ArticleRecord
from recommender.embedding.embedder import Embedder, load_embedder, vector_identity
from recommender.ingestion.articles import InvalidArticle, article_from_mapping, embedding_text
from recommender.ingestion.files import RowProblem, UnreadableFile, read_rows
from recommender.ingestion.ingest import expand_paths
from recommender.ingestion.shards import (
    ShardError,
    check_identity,
    new_shard_path,
    shard_info,
    shard_keys,
    shard_paths,
    shard_table,
    write_shard,
)
from recommender.settings import Settings

__all__ = [
    "BATCH_ROWS",
    "SHARD_ROWS",
    "EmbedBatches",
    "EmbedReport",
    "ShardWriter",
    "done_keys",
    "embed_files",
    "read_source",
]

#: Rows handed to an embedding worker at a time.
BATCH_ROWS = 256
#: Rows per shard: what a killed job can lose, and what a rerun skips at once.
SHARD_ROWS = 8192

# A row's fate after reading: embedded and written, already in the shards, or refused. A file
# that cannot be read at all comes as one row of its own.
_OK, _SKIPPED, _REJECTED, _UNREADABLE = "ok", "skipped", "rejected", "unreadable"
_URI_MARK = "://"


@dataclass
class EmbedReport:
    """What an embed run did, for the CLI's summary line and for tests."""

    written: int = 0
    skipped: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    damaged_shards: list[str] = field(default_factory=list)
    shards: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def nothing_read(self) -> bool:
        """True when no file gave a single usable row: the CLI's failure condition."""
        return self.written == 0 and self.skipped == 0


def done_keys(out: Path, model: str, embedding_key: str) -> tuple[set[tuple[str, str]], list[str]]:
    """The ``(id, content_hash)`` pairs already embedded by ``model`` in the shards of ``out``,
    and the damaged shards found there (named and skipped: their rows are embedded again).

    Raises:
        ShardMismatch: a shard in ``out`` holds vectors of another model, which one folder of
            shards must never mix.
    """
    keys: set[tuple[str, str]] = set()
    damaged: list[str] = []
    dim: int | None = None
    for path in shard_paths(out):
        try:
            info = shard_info(path)
            check_identity(info, model, embedding_key, dim, dim_source="the other shards")
            keys |= shard_keys(path)
        except ShardError as exc:
            damaged.append(str(exc))
            continue
        dim = info.dim
    return keys, damaged


@contextmanager
def _local_file(source: str) -> Iterator[Path]:
    """``source`` as a local file: a path or ``file://`` URI as it is, any other pyarrow
    filesystem URI copied to a temporary file of the same name (the readers need a file)."""
    if _URI_MARK not in source:
        yield Path(source)
        return
    import pyarrow.fs as pafs

    try:
        filesystem, path = pafs.FileSystem.from_uri(source)
    except (ValueError, OSError) as exc:
        raise UnreadableFile(f"{source}: not a readable URI ({exc})") from None
    if isinstance(filesystem, pafs.LocalFileSystem):
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="newsrec-embed-") as folder:
        local = Path(folder) / Path(path).name
        try:
            with filesystem.open_input_stream(path) as remote, local.open("wb") as copy:
                shutil.copyfileobj(remote, copy, 1 << 20)
        except (OSError, ValueError) as exc:
            raise UnreadableFile(f"{source}: cannot read ({exc})") from None
        yield local


def _row(
    status: str, source: str, line: int, reason: str = "", text: str = "", record: bytes = b""
) -> dict[str, Any]:
    return {
        "status": status,
        "source": source,
        "line": line,
        "reason": reason,
        "text": text,
        "record": record,
    }


def read_source(
    source: str, *, embedding_key: str, done: frozenset[tuple[str, str]] = frozenset()
) -> Iterator[dict[str, Any]]:
    """Stage 1: the rows of one file, validated, each with its status, as they are read.

    Every row has ``status`` (ok, skipped, rejected or unreadable), ``source``, ``line``,
    ``reason`` (why it was rejected), ``text`` (what to embed) and ``record`` (the validated
    article, pickled: it goes from worker to driver unchanged).
    """
    local: Path | None = None
    try:
        with _local_file(source) as local:
            for item in read_rows(local):
                if isinstance(item, RowProblem):
                    yield _row(_REJECTED, source, item.line, item.reason)
                    continue
                try:
                    article = article_from_mapping(item.fields, embedding_key=embedding_key)
                except InvalidArticle as exc:
                    yield _row(_REJECTED, source, item.line, str(exc))
                    continue
                if (article.id, article.content_hash) in done:
                    yield _row(_SKIPPED, source, item.line)
                    continue
                text = embedding_text(article.title, article.body)
                yield _row(_OK, source, item.line, text=text, record=pickle.dumps(article))
    except UnreadableFile as exc:
        reason = str(exc)
        if local is not None:  # name the file as the user gave it, not a temporary copy
            reason = reason.replace(str(local), source)
        yield _row(_UNREADABLE, source, 0, reason)


class EmbedBatches:
    """Stage 2: embeds the ``ok`` rows of a batch into a ``vector`` column (zeros elsewhere).

    Loads the model once, when made (on Ray, once per actor of the pool), unless given one.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.embedder: Embedder = embedder or load_embedder(settings)

    def __call__(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """``batch`` with a ``vector`` column added and its ``text`` column dropped."""
        status = batch["status"]
        keep = np.flatnonzero(status == _OK)
        vectors = np.zeros((len(status), self.embedder.dim), dtype=np.float32)
        if len(keep):
            vectors[keep] = self.embedder.encode([str(t) for t in batch["text"][keep]])
        out = {name: column for name, column in batch.items() if name != "text"}
        out["vector"] = vectors
        return out


class ShardWriter:
    """Stage 3: gathers embedded rows into the report and into shards of ``shard_rows`` rows."""

    def __init__(self, out: Path, settings: Settings, report: EmbedReport, shard_rows: int) -> None:
        self.out = out
        self.model = vector_identity(settings)
        self.embedding_key = settings.embedding_key
        self.report = report
        self.shard_rows = shard_rows
        self._records: list[ArticleRecord] = []
        self._vectors: list[npt.NDArray[np.float32]] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, batch: dict[str, npt.NDArray[Any]]) -> None:
        """Count a batch's rows, keep its embedded articles, write a shard when one is full."""
        for i, status in enumerate(batch["status"]):
            if status == _REJECTED:
                reason = str(batch["reason"][i])
                self.report.problems.append(
                    RowProblem(str(batch["source"][i]), int(batch["line"][i]), reason)
                )
                self.report.rejected += 1
            elif status == _UNREADABLE:
                self.report.unreadable.append(str(batch["reason"][i]))
            elif status == _SKIPPED:
                self.report.skipped += 1
            else:
                record: ArticleRecord = pickle.loads(batch["record"][i])
                key = (record.id, record.content_hash)
                if key in self._seen:  # the same article twice in one run: once is enough
                    self.report.skipped += 1
                    continue
                self._seen.add(key)
                self._records.append(record)
                self._vectors.append(np.asarray(batch["vector"][i], dtype=np.float32))
                if len(self._records) >= self.shard_rows:
                    self.flush()

    def flush(self) -> None:
        """Write the rows gathered so far as one shard."""
        if not self._records:
            return
        table = shard_table(self._records, np.stack(self._vectors), self.model, self.embedding_key)
        path = new_shard_path(self.out)
        write_shard(path, table)
        self.report.shards.append(path)
        self.report.written += len(self._records)
        self._records, self._vectors = [], []


def _sources(inputs: Sequence[str]) -> list[str]:
    """Local folders stand for the files in them; URIs and files are taken as they are."""
    out: list[str] = []
    for given in inputs:
        if _URI_MARK in given:
            out.append(given)
        else:
            out.extend(str(p) for p in expand_paths([Path(given)]))
    return out


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[dict[str, npt.NDArray[Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield _columns(chunk)
            chunk = []
    if chunk:
        yield _columns(chunk)


def _columns(rows: list[dict[str, Any]]) -> dict[str, npt.NDArray[Any]]:
    columns: dict[str, npt.NDArray[Any]] = {}
    for name in rows[0]:
        column = np.empty(len(rows), dtype=object)
        column[:] = [row[name] for row in rows]
        columns[name] = column
    return columns


def _in_process(
    sources: Sequence[str],
    settings: Settings,
    done: frozenset[tuple[str, str]],
    writer: ShardWriter,
    progress: bool,
    embedder: Callable[[], Embedder] | None,
) -> None:
    from tqdm import tqdm

    embed: EmbedBatches | None = None
    with tqdm(unit=" rows", disable=not progress, desc="embed") as bar:
        for source in sources:
            rows = read_source(source, embedding_key=settings.embedding_key, done=done)
            for batch in _batches(rows, BATCH_ROWS):
                if embed is None and (batch["status"] == _OK).any():
                    # The model is loaded only when there is work.
                    embed = EmbedBatches(settings, embedder() if embedder else None)
                writer.add(embed(batch) if embed is not None else batch)
                bar.update(len(batch["status"]))


def _on_ray(
    sources: Sequence[str],
    settings: Settings,
    done: frozenset[tuple[str, str]],
    writer: ShardWriter,
    progress: bool,
    embedder: Callable[[], Embedder] | None,
) -> None:
    import ray.data

    from recommender.distributed.runtime import node_cpus

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # Reading is light next to embedding; at no CPU of its own it never waits for the actors,
    # which hold every CPU of the cluster.
    rows = ray.data.from_items(
        [{"source": s} for s in sources], override_num_blocks=max(1, len(sources))
    ).flat_map(
        _read_row,
        fn_kwargs={"embedding_key": settings.embedding_key, "done": done},
        num_cpus=0,
    )
    # One model per node, holding all its CPUs: the embedder spreads its work over the cores
    # it has (OpenVINO's streams, torch's threads) as it does in-process, where two models
    # per node would only contend for the same cores.
    cpus = node_cpus() or [1]
    embedded = rows.map_batches(
        EmbedBatches,
        fn_constructor_kwargs={"settings": settings},
        batch_size=BATCH_ROWS,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=len(cpus)),
        num_cpus=min(cpus),
    )
    # The same rows in the same order as in-process: shards come out identical, and with
    # one id given twice the later row is the one a reader keeps. (The dataset's own copy of
    # the context: other Ray Data work in this process keeps its settings.)
    embedded.context.execution_options.preserve_order = True
    embedded.context.enable_progress_bars = progress
    for batch in embedded.iter_batches(batch_size=BATCH_ROWS, batch_format="numpy"):
        writer.add(batch)


def _read_row(
    item: dict[str, Any],
    *,
    embedding_key: str = "",
    done: frozenset[tuple[str, str]] = frozenset(),
) -> Iterator[dict[str, Any]]:
    yield from read_source(item["source"], embedding_key=embedding_key, done=done)


def embed_files(
    inputs: Sequence[str],
    out: Path,
    settings: Settings,
    *,
    on_ray: bool = False,
    progress: bool = False,
    shard_rows: int = SHARD_ROWS,
    embedder: Callable[[], Embedder] | None = None,
) -> EmbedReport:
    """Embed the articles of ``inputs`` into vector shards in ``out``.

    Args:
        inputs: files or folders (JSONL(.gz), CSV, Parquet, MIND news.tsv), local paths or
            pyarrow filesystem URIs (``file:///...``, ``s3://...``).
        out: the shard folder; created if missing; articles already embedded there by the same
            model, with the same content, are skipped.
        settings: the model and its input length.
        on_ray: run on the Ray this process is connected to (see
            :func:`recommender.distributed.runtime.ray_session`); else in this process.
        progress: show progress (for terminals).
        shard_rows: rows per shard.
        embedder: in this process, gives the model (called at most once, and only if some
            article needs embedding) instead of ``load_embedder(settings)``; Ray's actors
            always load their own.

    Raises:
        ShardMismatch: ``out`` holds shards of another model or dimension.
    """
    started = time.perf_counter()
    report = EmbedReport()
    keys, report.damaged_shards = done_keys(out, vector_identity(settings), settings.embedding_key)
    out.mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(out, settings, report, shard_rows)
    run: Callable[..., None] = _on_ray if on_ray else _in_process
    run(_sources(inputs), settings, frozenset(keys), writer, progress, embedder)
    writer.flush()
    report.seconds = time.perf_counter() - started
    return report
