"""``newsrec doctor``: find what is wrong with a home directory and say how to fix it.

Every check reads only; nothing is repaired, locked or loaded into a model, so the doctor can run
beside a live service or a running ingest. Each problem is one :class:`Finding` whose message
names the file at fault, the problem, and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from index import (
    Catalogue,
    CatalogueError,
    DiskError,
    FormatVersionError,
    IndexLoadError,
    IndexStore,
    IndexVersion,
    StorageError,
)
from index.disk import on_read_only_file_system
from index.errors import CatalogueUnavailable
from index.events import EventStore
from index.overrides import OverrideStore
from recommender.experiments.config import ExperimentsError, load_experiments
from recommender.ingestion.articles import content_hash
from recommender.settings import Settings

__all__ = ["Checkup", "Finding", "examine", "serving_refusal"]

_REINDEX = "run `newsrec reindex` to publish a fresh version from the catalogue"
_UPGRADE = "upgrade newsrec to read it"
_RESTORE = "restore the catalogue from a backup"
#: How many articles, spread over the catalogue, have their content hash recomputed.
_HASH_SAMPLE = 500


def _published_count(store: IndexStore) -> tuple[str, int] | None:
    """The CURRENT version's name and vector count from its manifest, if one is published."""
    try:
        current = store.current()
    except StorageError:
        return None
    return None if current is None else (current.name, current.manifest.count)


def _shrinking_reindex(served: int, would_publish: int) -> str:
    # A reindex publishes what the catalogue holds; when that is less than is served, the
    # advice must say so, or following it would silently empty the lists.
    return (
        f"{_RESTORE} first if articles are missing: `newsrec reindex` now would publish "
        f"{would_publish} articles where the index serves {served}"
    )


def serving_refusal(settings: Settings) -> str | None:
    """Why ``newsrec serve`` must not start on this home, in one line; None if it may.

    A published index over a missing or empty catalogue means the catalogue was lost or
    replaced: serving would answer 404 to every list while looking ready, and the next write
    or reindex would make the loss permanent.
    """
    published = _published_count(IndexStore(settings.index_root))
    if published is None or published[1] == 0:
        return None
    name, count = published
    path: Path | str = settings.catalogue_path
    if settings.shared_catalogue:
        path = settings.catalogue
    elif not settings.catalogue_path.is_file():
        return (
            f"{path}: no catalogue, but index {name} holds {count} articles; {_RESTORE} (or "
            "point --home at the right directory); not serving"
        )
    try:
        with Catalogue(path, readonly=True) as catalogue:
            articles = catalogue.count()
            path = catalogue.path
    except CatalogueUnavailable as exc:
        # A replica builds its lists from the catalogue at start; it cannot start without it.
        return f"{exc}; start the replica once the database answers; not serving"
    except StorageError:
        return None  # the engine's own checks say what is wrong with it
    if articles == 0:
        return (
            f"{path}: the catalogue holds no articles, but index {name} holds {count}; "
            f"{_RESTORE}; not serving"
        )
    return None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: ``error`` makes the home unhealthy, ``warning`` does not."""

    severity: Literal["error", "warning"]
    message: str  # names the file and the problem
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}; {self.fix}"


@dataclass(frozen=True, slots=True)
class Checkup:
    """What the doctor found in one home: problems, and the figures of what is healthy."""

    home: Path
    findings: list[Finding]
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """True when no finding is an error (warnings are allowed)."""
        return not any(f.severity == "error" for f in self.findings)


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(self, message: str, fix: str) -> None:
        self._add(Finding("error", message, fix))

    def warning(self, message: str, fix: str) -> None:
        self._add(Finding("warning", message, fix))

    def _add(self, finding: Finding) -> None:
        # The same damage is often seen by two checks (e.g. via CURRENT and via the scan).
        if all(f.message != finding.message for f in self.items):
            self.items.append(finding)


def examine(settings: Settings) -> Checkup:
    """Check the catalogue and the published indexes of ``settings.home``.

    Looks for: a home on a read-only file system; a catalogue that is missing, not a newsrec
    catalogue, from a newer newsrec or damaged (its file header, SQLite's quick check, every
    row, and the content hashes of a sample of articles against their text); index versions
    with missing, truncated or altered files, manifests that disagree with their index, the
    configured model or the catalogue; and leftovers of interrupted jobs.
    """
    home = settings.home
    found = _Findings()
    facts: dict[str, object] = {"home": str(home)}
    if not home.is_dir():
        found.error(f"{home}: no such directory", "run `newsrec ingest` to create a home here")
        return Checkup(home, found.items, facts)
    if on_read_only_file_system(home):
        found.warning(
            f"{home}: on a file system mounted read-only (EROFS)",
            "reading works; ingest, events, reindex and serve need it remounted read-write",
        )
    catalogue = _open_catalogue(settings, found)
    try:
        if catalogue is not None:
            for problem in catalogue.check():
                found.error(problem, "restore the catalogue from a backup")
            _examine_side_tables(settings.catalogue, found)
            _examine_content_hashes(catalogue, settings, found)
            facts.update(
                articles=catalogue.count(), catalogue_seq=catalogue.last_seq(), dim=catalogue.dim
            )
        _examine_index(IndexStore(settings.index_root), catalogue, settings, found, facts)
        _examine_experiments(settings, found, facts)
    except CatalogueError as exc:  # too damaged to read past the first checks
        found.error(str(exc), "restore the catalogue from a backup")
    finally:
        if catalogue is not None:
            catalogue.close()
    return Checkup(home, found.items, facts)


def _examine_experiments(settings: Settings, found: _Findings, facts: dict[str, object]) -> None:
    # `newsrec serve` refuses a malformed experiments file at start: say so before a restart.
    path = settings.experiments_file
    if path is None:
        return
    try:
        experiment = load_experiments(Path(path))
    except ExperimentsError as exc:
        found.error(str(exc), "fix the file (`newsrec experiments check FILE`); serve refuses it")
        return
    facts["experiment"] = (
        "turned off"
        if experiment is None
        else f"{experiment.name} ({experiment.kind}: {', '.join(experiment.variant_names())})"
    )


def _open_catalogue(settings: Settings, found: _Findings) -> Catalogue | None:
    path: Path | str = settings.catalogue_path
    if settings.shared_catalogue:
        path = settings.catalogue
    elif not settings.catalogue_path.is_file():
        published = _published_count(IndexStore(settings.index_root))
        if published is not None and published[1] > 0:
            found.error(
                f"{path}: no catalogue, but index {published[0]} holds {published[1]} articles",
                f"{_RESTORE}; do not run `newsrec reindex` or `newsrec ingest` before, which "
                "would publish a new catalogue without those articles",
            )
        else:
            found.error(f"{path}: no catalogue", "run `newsrec ingest` to create one")
        return None
    try:
        return Catalogue(path, readonly=True)
    except CatalogueUnavailable as exc:
        found.error(str(exc), "start the database, or check the URL, network and credentials")
    except DiskError as exc:
        found.error(str(exc), "the catalogue itself may be healthy: fix the disk first")
    except FormatVersionError as exc:
        found.error(str(exc), _UPGRADE)
    except CatalogueError as exc:
        found.error(str(exc), "restore the catalogue from a backup")
    return None


def _examine_content_hashes(catalogue: Catalogue, settings: Settings, found: _Findings) -> None:
    # A stored hash is the digest of the text its vector was made from: an article whose title
    # or body no longer gives that digest was changed behind newsrec's back (or damaged), and
    # its vector and lists may describe another text.
    every = max(1, -(-catalogue.count() // _HASH_SAMPLE))
    sampled = 0
    differ: list[str] = []
    for position, record in enumerate(catalogue.iter_records()):
        if position % every:
            continue
        sampled += 1
        if content_hash(record.title, record.body, settings.embedding_key) != record.content_hash:
            differ.append(record.id)
    if not differ:
        return
    where = f"{catalogue.path}: {len(differ)} of {sampled} sampled articles"
    if len(differ) == sampled:
        found.warning(
            f"{where} have content hashes made with other embedding settings than "
            f"{settings.embedding_key!r} (model or max_seq_length changed since they were "
            "ingested?)",
            "ingest them again to embed them with the current settings, or set the model back",
        )
        return
    found.error(
        f"{where} have a title or body that no longer matches their stored content hash "
        f"(first: {differ[0]!r}): changed outside newsrec or damaged, so their vectors may "
        "describe another text",
        "ingest those articles again from their source (an ingest re-embeds an article whose "
        f"text changed), or {_RESTORE}",
    )


def _examine_side_tables(path: Path | str, found: _Findings) -> None:
    # Events and editorial overrides live in the catalogue's file with versions of their own.
    for store in (EventStore, OverrideStore):
        try:
            store(path, readonly=True).close()
        except FormatVersionError as exc:
            found.error(str(exc), _UPGRADE)
        except CatalogueError:
            continue  # not created yet (they are on first use), or damage reported above


def _examine_index(
    store: IndexStore,
    catalogue: Catalogue | None,
    settings: Settings,
    found: _Findings,
    facts: dict[str, object],
) -> None:
    leftovers = [f"{path}: " for path in store.leftovers()]
    for problem in store.check():
        if problem.startswith(tuple(leftovers)):
            found.warning(problem, "harmless: nothing serves it")
        elif "newer newsrec" in problem:
            found.error(problem, _UPGRADE)
        else:
            found.error(problem, _REINDEX)
    try:
        current = store.current()
    except IndexLoadError:
        return  # already reported by store.check()
    if current is None:
        if catalogue is not None and catalogue.count() > 0:
            found.error(f"{store.root}: no index has been published", _REINDEX)
        return
    expect_dim = catalogue.dim if catalogue is not None else None
    try:
        index, current = store.load(current, expect_model=settings.model, expect_dim=expect_dim)
    except FormatVersionError as exc:
        found.error(str(exc), _UPGRADE)
        return
    except StorageError as exc:
        found.error(str(exc), _REINDEX)
        return
    manifest = current.manifest
    facts.update(
        index_version=current.name,
        index_kind=manifest.kind,
        indexed=len(index),
        model=manifest.model,
    )
    if catalogue is not None:
        _compare_with_catalogue(current, catalogue, found, facts)


def _compare_with_catalogue(
    version: IndexVersion, catalogue: Catalogue, found: _Findings, facts: dict[str, object]
) -> None:
    manifest = version.manifest
    manifest_file = version.path / "manifest.json"
    last = catalogue.last_seq()
    if manifest.catalogue_seq > last:
        found.error(
            f"{manifest_file}: built from catalogue change {manifest.catalogue_seq}, but "
            f"{catalogue.path} only records changes up to {last} (was the catalogue replaced "
            "by an older copy?)",
            _shrinking_reindex(manifest.count, catalogue.count())
            if catalogue.count() < manifest.count
            else _REINDEX,
        )
        return
    facts["changes_not_in_index"] = last - manifest.catalogue_seq
    expected = catalogue.live_count_at(manifest.catalogue_seq)
    # The build reads the change number before the vectors, so changes made during a build
    # may legitimately be in the index already; only a gap they cannot explain is damage.
    racing = len(catalogue.changes_since(manifest.catalogue_seq))
    if abs(manifest.count - expected) > racing:
        found.error(
            f"{manifest_file}: index holds {manifest.count} vectors, but {catalogue.path} had "
            f"{expected} published articles at change {manifest.catalogue_seq}",
            _shrinking_reindex(manifest.count, catalogue.count())
            if catalogue.count() < manifest.count
            else _REINDEX,
        )
