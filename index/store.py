"""Versioned on-disk vector indexes with atomic publish.

Layout under `root`::

    CURRENT            # one line: the name of the version being served, e.g. "v000007"
    v000006/           # index files + manifest.json (checksums of every file)
    v000007/
    .tmp-k2j4h1/       # a publish in progress, or left behind by a crash

A version may carry *extras* beside the index: named arrays the caller computed from the same
catalogue state (e.g. precomputed neighbour lists), written as ``extra-NAME.npy`` and guarded
by the same checksums, so they are published and replaced atomically with the index.

A version directory is complete before it is renamed into place, and CURRENT is replaced
atomically afterwards, so a crash at any moment leaves either the old or the new version being
served, never a mix. Writers (publish, prune) must hold the WriterLock; readers need no lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.crashpoints import crash_point
from index.durable import fsync_path
from index.errors import IndexLoadError, StorageError
from index.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest
from index.vectors import INDEX_KINDS, VectorIndex

__all__ = ["CURRENT_NAME", "IndexStore", "IndexVersion", "version_name", "version_number"]

CURRENT_NAME = "CURRENT"
_TMP_PREFIX = ".tmp-"
_CURRENT_TMP_PREFIX = ".CURRENT.tmp-"
_VERSION_RE = re.compile(r"v(\d{6,})")
_EXTRA_PREFIX = "extra-"
_EXTRA_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CHUNK = 1 << 20
_PUBLIC_DIR_MODE = 0o755
_PUBLIC_FILE_MODE = 0o644


@dataclass(frozen=True)
class IndexVersion:
    """One published, immutable index directory and its manifest."""

    name: str
    path: Path
    manifest: Manifest


class IndexStore:
    """The published index versions under one root directory (e.g. HOME/index)."""

    def __init__(self, root: Path) -> None:
        """Use `root` as the store directory; it is created on first publish."""
        self._root = Path(root)

    @property
    def root(self) -> Path:
        """The store directory."""
        return self._root

    def __repr__(self) -> str:
        return f"IndexStore({str(self._root)!r})"

    def current(self) -> IndexVersion | None:
        """Return the version CURRENT points to, or None if nothing has been published.

        Raises IndexLoadError if CURRENT is unreadable or points to a missing/damaged version.
        """
        pointer = self._root / CURRENT_NAME
        try:
            text = pointer.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexLoadError(f"{pointer}: unreadable ({exc})") from exc
        name = text.strip()
        if not _VERSION_RE.fullmatch(name):
            raise IndexLoadError(f"{pointer}: does not name a version (holds {text[:40]!r})")
        path = self._root / name
        if not path.is_dir():
            raise IndexLoadError(f"{pointer}: points to {name}, but {path} does not exist")
        return self._read_version(path)

    def versions(self) -> list[IndexVersion]:
        """Return the readable versions, oldest first.

        A version whose manifest cannot be read is left out here and reported by `check()`.
        """
        found = []
        for path in self._version_dirs():
            try:
                found.append(self._read_version(path))
            except IndexLoadError:
                continue
        return found

    def publish(
        self,
        index: VectorIndex,
        *,
        model: str,
        catalogue_seq: int,
        params: dict[str, Any] | None = None,
        extras: Mapping[str, np.ndarray] | None = None,
    ) -> IndexVersion:
        """Write `index` as a new version and make it CURRENT, atomically.

        `params` is recorded in the manifest next to the index's own parameters; a key that
        collides with an index parameter but holds a different value raises ValueError.
        `extras` are arrays published with the index (read back with :meth:`extras`); names
        are lower-case identifiers.
        """
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        if (
            isinstance(catalogue_seq, bool)
            or not isinstance(catalogue_seq, int)
            or (catalogue_seq < 0)
        ):
            raise ValueError(f"catalogue_seq must be a non-negative integer, got {catalogue_seq!r}")
        recorded = _merge_params(index.params, params or {})
        for name in extras or {}:
            if not _EXTRA_NAME.fullmatch(name):
                raise ValueError(f"extra name must be a lower-case identifier, got {name!r}")

        self._root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self._root))
        try:
            # mkdtemp makes the directory private (0700); a service running as another user
            # than the indexing job must still be able to read the published version.
            tmp.chmod(_PUBLIC_DIR_MODE)
            index.save(tmp)
            for name, array in (extras or {}).items():
                np.save(tmp / f"{_EXTRA_PREFIX}{name}.npy", np.ascontiguousarray(array))
            files = {}
            for file in sorted(tmp.iterdir()):
                if not file.is_file():
                    raise StorageError(f"{file}: index saved a non-file entry; cannot publish")
                fsync_path(file)
                files[file.name] = _sha256(file)
            if not files:
                raise StorageError(f"{tmp}: {index.kind} index saved no files; cannot publish")
            crash_point("publish.after_files")
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                kind=index.kind,
                model=model,
                dim=index.dim,
                count=len(index),
                created_at=datetime.now(UTC),
                catalogue_seq=catalogue_seq,
                files=files,
                params=recorded,
            )
            _write_durably(tmp / MANIFEST_NAME, manifest.to_json())
            fsync_path(tmp)
            final = self._rename_to_next_version(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_path(self._root)
        crash_point("publish.after_rename")
        self._point_current_at(final.name)
        crash_point("publish.after_current")
        return IndexVersion(name=final.name, path=final, manifest=manifest)

    def install(self, directory: Path, name: str) -> IndexVersion:
        """Make `directory` a version named `name` (or the next number above every version
        this store holds, if that is higher) and point CURRENT at it, atomically.

        `directory` is a complete version (index files and manifest) that the caller wrote and
        verified inside `root`, e.g. a copy fetched from a shared store; it is renamed, never
        copied. Call it holding the lock that serialises writers of this store.

        Raises:
            ValueError: `name` is not a version name or `directory` is not inside `root`.
            IndexLoadError: `directory` holds no readable manifest.
        """
        if not _VERSION_RE.fullmatch(name):
            raise ValueError(f"not a version name: {name!r} (expected e.g. v000007)")
        if Path(directory).parent != self._root:
            raise ValueError(f"{directory}: must be a directory inside {self._root}")
        manifest = self._read_version(Path(directory)).manifest
        final = self._rename_to_next_version(Path(directory), first=_version_number(Path(name)))
        fsync_path(self._root)
        self._point_current_at(final.name)
        return IndexVersion(name=final.name, path=final, manifest=manifest)

    def make_current(self, version: IndexVersion) -> None:
        """Point CURRENT at `version`, one of this store's versions, atomically."""
        if version.path != self._root / version.name or not version.path.is_dir():
            raise ValueError(f"{version.path}: not a version of {self}")
        self._point_current_at(version.name)

    def load(
        self,
        version: IndexVersion | None = None,
        *,
        expect_model: str | None = None,
        expect_dim: int | None = None,
    ) -> tuple[VectorIndex, IndexVersion]:
        """Load and verify `version` (default: CURRENT).

        Checks the manifest format, every file's checksum, that the index matches the manifest
        (kind, dimension, count) and the expected model and dimension. Any problem raises
        IndexLoadError (FormatVersionError for a newer format) naming the file.
        """
        if version is None:
            version = self.current()
            if version is None:
                raise IndexLoadError(
                    f"{self._root / CURRENT_NAME}: no index has been published yet; "
                    "run `newsrec reindex`"
                )
        else:
            # Re-read from disk: the caller's copy may be stale and the files are the truth.
            version = self._read_version(version.path)
        manifest_file = version.path / MANIFEST_NAME
        manifest = version.manifest
        if expect_model is not None and manifest.model != expect_model:
            raise IndexLoadError(
                f"{manifest_file}: built with model {manifest.model!r}, configured model is "
                f"{expect_model!r}; run `newsrec reindex`"
            )
        if expect_dim is not None and manifest.dim != expect_dim:
            raise IndexLoadError(
                f"{manifest_file}: built with dimension {manifest.dim}, configured dimension is "
                f"{expect_dim}; run `newsrec reindex`"
            )
        return self._load_verified(version), version

    def extras(self, version: IndexVersion) -> dict[str, np.ndarray]:
        """The extra arrays published with `version`, memory-mapped read-only.

        Call it after :meth:`load` verified the version's checksums.

        Raises:
            IndexLoadError: an extra file that is missing or not a readable array.
        """
        out: dict[str, np.ndarray] = {}
        for name in version.manifest.files:
            if not (name.startswith(_EXTRA_PREFIX) and name.endswith(".npy")):
                continue
            file = version.path / name
            try:
                out[name[len(_EXTRA_PREFIX) : -len(".npy")]] = np.load(
                    file, mmap_mode="r", allow_pickle=False
                )
            except (OSError, ValueError) as exc:
                raise IndexLoadError(f"{file}: not a readable array ({exc})") from exc
        return out

    def check(self) -> list[str]:
        """Return every problem found in the store (empty means healthy), for `doctor`."""
        problems: list[str] = []
        if not self._root.is_dir():
            return problems
        dirs = self._version_dirs()
        try:
            if self.current() is None and dirs:
                problems.append(
                    f"{self._root / CURRENT_NAME}: missing although {len(dirs)} version(s) exist"
                )
        except IndexLoadError as exc:
            problems.append(str(exc))
        for path in dirs:
            try:
                self._load_verified(self._read_version(path))
            except IndexLoadError as exc:
                problems.append(str(exc))
        for path in self._leftovers():
            problems.append(
                f"{path}: left over from an interrupted publish or prune (the next publish "
                "removes it)"
            )
        # A damaged CURRENT version is found both via CURRENT and via the scan; say it once.
        return list(dict.fromkeys(problems))

    def prune(self, keep: int = 3, *, leftovers: bool = True) -> list[str]:
        """Delete all but the newest `keep` versions (never CURRENT) and leftover temp files.

        Returns the names removed. Call it holding the WriterLock: a temp directory of a
        publish running concurrently would otherwise be deleted under it. With `leftovers`
        False only old versions go, so it is safe beside a publish of another process.
        """
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep must be a positive integer, got {keep!r}")
        if not self._root.is_dir():
            return []
        try:
            current = self.current()
        except IndexLoadError:
            current = None
        protected = {current.name} if current else set()
        # Without a readable CURRENT we cannot tell which version is served, so keep them all.
        if current is None and (self._root / CURRENT_NAME).exists():
            protected = {p.name for p in self._version_dirs()}
        dirs = self._version_dirs()
        doomed = [p for p in dirs[: max(0, len(dirs) - keep)] if p.name not in protected]
        removed = [p.name for p in doomed]
        # A version is first renamed to a temp name (atomic) and only then deleted: a crash
        # half-way through rmtree must leave a leftover for the next prune, never a version
        # directory with files missing that `check()` would report as damaged.
        for path in doomed:
            os.rename(path, self._root / f"{_TMP_PREFIX}pruned-{path.name}")
            crash_point("prune.during")
        pruned = [self._root / f"{_TMP_PREFIX}pruned-{path.name}" for path in doomed]
        for path in self._leftovers() if leftovers else pruned:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            if not path.name.startswith(f"{_TMP_PREFIX}pruned-"):
                removed.append(path.name)
        if removed:
            fsync_path(self._root)
        return removed

    def leftovers(self) -> list[Path]:
        """Temp files and directories left by an interrupted publish or prune.

        The next prune removes them; they never affect what is served.
        """
        return self._leftovers()

    def _version_dirs(self) -> list[Path]:
        if not self._root.is_dir():
            return []
        dirs = [p for p in self._root.iterdir() if _VERSION_RE.fullmatch(p.name) and p.is_dir()]
        return sorted(dirs, key=_version_number)

    def _leftovers(self) -> list[Path]:
        if not self._root.is_dir():
            return []
        return sorted(
            p for p in self._root.iterdir() if p.name.startswith((_TMP_PREFIX, _CURRENT_TMP_PREFIX))
        )

    def _read_version(self, path: Path) -> IndexVersion:
        manifest_file = path / MANIFEST_NAME
        try:
            text = manifest_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise IndexLoadError(f"{manifest_file}: missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexLoadError(f"{manifest_file}: unreadable ({exc})") from exc
        return IndexVersion(
            name=path.name, path=path, manifest=Manifest.from_json(text, manifest_file)
        )

    def _load_verified(self, version: IndexVersion) -> VectorIndex:
        manifest = version.manifest
        manifest_file = version.path / MANIFEST_NAME
        for name, digest in manifest.files.items():
            file = version.path / name
            if not file.is_file():
                raise IndexLoadError(f"{file}: missing (listed in {MANIFEST_NAME})")
            if _sha256(file) != digest:
                raise IndexLoadError(f"{file}: checksum mismatch (file damaged or truncated)")
        cls = INDEX_KINDS.get(manifest.kind)
        if cls is None:
            raise IndexLoadError(
                f"{manifest_file}: unknown index kind {manifest.kind!r} "
                f"(known: {', '.join(sorted(INDEX_KINDS))})"
            )
        index = cls.load(version.path)
        if index.dim != manifest.dim:
            raise IndexLoadError(
                f"{manifest_file}: manifest says dimension {manifest.dim}, index has {index.dim}"
            )
        if len(index) != manifest.count:
            raise IndexLoadError(
                f"{manifest_file}: manifest says {manifest.count} vectors, index holds {len(index)}"
            )
        return index

    def _rename_to_next_version(self, tmp: Path, first: int = 1) -> Path:
        dirs = self._version_dirs()
        number = max(_version_number(dirs[-1]) + 1 if dirs else 1, first)
        while True:
            target = self._root / version_name(number)
            # os.rename would silently replace an empty directory, so check first; the writer
            # lock makes the check-then-rename race-free in practice.
            if not target.exists():
                try:
                    os.rename(tmp, target)
                    return target
                except OSError:
                    if not target.exists():
                        raise
            number += 1

    def _point_current_at(self, name: str) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=_CURRENT_TMP_PREFIX, dir=self._root)
        try:
            os.fchmod(fd, _PUBLIC_FILE_MODE)  # mkstemp makes it 0600, see publish()
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(name + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._root / CURRENT_NAME)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        fsync_path(self._root)


def _merge_params(index_params: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    clashes = [k for k in extra if k in index_params and extra[k] != index_params[k]]
    if clashes:
        raise ValueError(
            f"params key {clashes[0]!r} ({extra[clashes[0]]!r}) contradicts the index "
            f"parameter of the same name ({index_params[clashes[0]]!r})"
        )
    merged = {**index_params, **extra}
    try:
        json.dumps(merged)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be JSON-serialisable: {exc}") from None
    return merged


def version_number(name: str) -> int | None:
    """The number of the version named ``name`` (``v000007``: 7); None if it names none."""
    match = _VERSION_RE.fullmatch(name)
    return int(match.group(1)) if match else None


def version_name(number: int) -> str:
    """The name of version ``number`` (7: ``v000007``)."""
    return f"v{number:06d}"


def _version_number(path: Path) -> int:
    number = version_number(path.name)
    if number is None:  # only called on names already filtered by _VERSION_RE
        raise StorageError(f"{path}: not a version directory")
    return number


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_durably(file: Path, text: str) -> None:
    with file.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
