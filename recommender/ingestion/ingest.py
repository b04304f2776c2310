"""Ingest: read article files, validate rows, embed what changed, upsert, publish the index.

A bad row is reported with its file, line and reason and skipped; the good rows land. Work is
committed in chunks, so a job killed half-way keeps what it finished and a rerun embeds only
what is still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from index import ArticleRecord, Catalogue
from index.events import Event, EventStore
from recommender.embedding.embedder import Embedder
from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from recommender.ingestion.events import read_events
from recommender.ingestion.files import Row, RowProblem, UnreadableFile, read_rows
from recommender.ingestion.mind import is_behaviors_file
from recommender.ingestion.updates import embed_changed
from recommender.operations.indexing import publish_if_behind
from recommender.operations.writer import writer_lock
from recommender.settings import Settings

if TYPE_CHECKING:  # Ray is optional: imported only when a target is given
    from recommender.distributed.runtime import RayTarget

__all__ = ["IngestReport", "expand_paths", "ingest"]

_CHUNK = 256


@dataclass
class IngestReport:
    """What an ingest did, for the CLI's summary line and for tests."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    rows_read: int = 0
    clicks_applied: int = 0
    unknown_click_ids: int = 0
    embedded: int = 0
    seconds: float = 0.0
    index_version: str | None = None
    #: Where ``seconds`` went: loading the model, encoding, writing the catalogue, building and
    #: publishing the index; reading and checking the files is the rest.
    model_seconds: float = 0.0
    embed_seconds: float = 0.0
    write_seconds: float = 0.0
    publish_seconds: float = 0.0

    @property
    def phases(self) -> str:
        """The time of each phase, for the summary line: ``model 1.2s, embedding 30.1s, ...``."""
        read = max(
            0.0,
            self.seconds
            - self.model_seconds
            - self.embed_seconds
            - self.write_seconds
            - self.publish_seconds,
        )
        parts = [
            ("reading", read),
            ("model", self.model_seconds),
            ("embedding", self.embed_seconds),
            ("catalogue", self.write_seconds),
            ("index", self.publish_seconds),
        ]
        return ", ".join(f"{name} {seconds:.1f}s" for name, seconds in parts if seconds >= 0.05)

    @property
    def nothing_read(self) -> bool:
        """True when no file yielded a single usable row: the CLI's failure condition."""
        return self.rows_read == 0 and self.clicks_applied == 0


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Directories stand for the article files in them (MIND folders: news then behaviors)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            out.extend(sorted(files, key=is_behaviors_file))
        else:
            out.append(path)
    return out


def _chunks(rows: Iterable[Row | RowProblem], size: int) -> Iterator[list[Row | RowProblem]]:
    chunk: list[Row | RowProblem] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Job:
    def __init__(
        self,
        catalogue: Catalogue,
        embedder: Callable[[], Embedder],
        report: IngestReport,
        bar: tqdm[None],
        embedding_key: str,
    ) -> None:
        self.embedding_key = embedding_key
        self.catalogue = catalogue
        self.embedder = embedder
        self.report = report
        self.bar = bar

    def land(self, batch: list[Row | RowProblem]) -> None:
        records: dict[str, ArticleRecord] = {}
        for item in batch:
            if isinstance(item, RowProblem):
                self._reject(item)
                continue
            try:
                record = article_from_mapping(item.fields, embedding_key=self.embedding_key)
            except InvalidArticle as exc:
                self._reject(RowProblem(item.source, item.line, str(exc)))
                continue
            self.report.rows_read += 1
            records[record.id] = record  # a later row with the same id wins
        self.bar.update(len(batch))
        if not records:
            return
        model_before = self.report.model_seconds
        started = time.perf_counter()
        vectors = embed_changed(self.catalogue, records, self.embedder)
        finished = time.perf_counter()
        # The first chunk to embed loads the model; that time is the model's, not encoding's.
        self.report.embed_seconds += finished - started - (self.report.model_seconds - model_before)
        self.report.embedded += len(vectors)
        counts = self.catalogue.upsert(list(records.values()), vectors)
        self.report.write_seconds += time.perf_counter() - finished
        self.report.added += counts.added
        self.report.updated += counts.updated
        self.report.unchanged += counts.unchanged

    def apply_clicks(self, path: Path) -> None:
        # Clicks are reading events: stored with their times they feed the decayed popularity
        # (recommender/signals/popularity.py), and their keys make reading the file again add
        # nothing.
        clicks: list[Event] = []
        for item in read_events(path):
            if isinstance(item, RowProblem):
                self._reject(item)
            else:
                clicks.append(item)
        known = self.catalogue.content_hashes({event.article_id for event in clicks})
        kept = [event for event in clicks if event.article_id in known]
        self.report.unknown_click_ids += len({e.article_id for e in clicks} - set(known))
        self.report.clicks_applied += len(kept)
        with EventStore(self.catalogue.target) as events:
            events.add(kept)

    def _reject(self, problem: RowProblem) -> None:
        self.report.rejected += 1
        self.report.problems.append(problem)


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    embedder: Callable[[], Embedder],
    *,
    mapping: Mapping[str, str] | None = None,
    progress: bool = False,
    publish: bool = True,
    lock_wait: float = 0.0,
    ray: RayTarget | None = None,
) -> IngestReport:
    """Ingest article files into the catalogue of ``settings.home`` and publish a new index.

    Args:
        paths: files or folders (JSONL, JSONL.gz, CSV, Parquet, MIND news.tsv/behaviors.tsv).
        settings: where the home is and which model embeds.
        embedder: called at most once, and only if some article's content needs embedding.
        mapping: column renames, source name to newsrec name.
        progress: show a progress bar (for terminals).
        publish: build and publish a new index version afterwards.
        lock_wait: seconds to wait for another writer before raising ``LockedError``.
        ray: compute the new version's neighbour table on Ray (None: in this process).
    """
    started = time.perf_counter()
    report = IngestReport()
    settings.home.mkdir(parents=True, exist_ok=True)
    loaded: list[Embedder] = []

    def get_embedder() -> Embedder:
        if not loaded:
            begun = time.perf_counter()
            loaded.append(embedder())
            report.model_seconds = time.perf_counter() - begun
        return loaded[0]

    with (
        writer_lock(settings, wait=lock_wait, purpose="ingest"),
        Catalogue(settings.catalogue) as catalogue,
        tqdm(unit=" rows", disable=not progress, desc="ingest") as bar,
    ):
        job = _Job(catalogue, get_embedder, report, bar, settings.embedding_key)
        for path in expand_paths(paths):
            try:
                if is_behaviors_file(path):
                    job.apply_clicks(path)
                    continue
                for batch in _chunks(read_rows(path, mapping=mapping), _CHUNK):
                    job.land(batch)
            except UnreadableFile as exc:
                report.unreadable.append(str(exc))
        begun = time.perf_counter()
        report.index_version = publish_if_behind(
            catalogue, settings, changed=report.embedded > 0, publish=publish, ray=ray
        )
        report.publish_seconds = time.perf_counter() - begun
    report.seconds = time.perf_counter() - started
    return report
