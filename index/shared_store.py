"""The shared index store: published index versions that every serving replica copies.

Layout under the store's URI, as in a local :class:`~index.store.IndexStore`::

    CURRENT            # one line: the version replicas serve, e.g. "v000007"
    v000006/           # a version's files and its manifest.json (checksums of every file)
    v000007/

The URI is a plain path or a ``file://`` URI (a folder every machine mounts), or any fsspec
URI whose driver is installed (``s3://bucket/newsrec`` with s3fs, ``gs://`` with gcsfs, ...).

Publishing (:func:`publish_to`, on the builder) uploads a version's files, then its manifest,
then replaces CURRENT last: written under a temporary name and moved, which is atomic on a
folder and on object stores. A replica that reads CURRENT therefore always finds a complete
version. One builder publishes at a time: the caller holds the catalogue's writer lock.

Fetching (:func:`fetch`, on each replica) copies the version CURRENT names into the local
store: into a temporary directory inside its root, checking each file's sha256 against the
manifest as it arrives. Only a complete, verified copy is renamed into place and made the local
CURRENT, so a failure at any point leaves the local store as it was and raises StorageError
naming the file. Fetches into one local store are serialised by a file lock, so the workers of
one home download a version once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import fsspec  # type: ignore[import-untyped]

from index.crashpoints import crash_point
from index.durable import fsync_path
from index.errors import IndexLoadError, StorageError
from index.manifest import MANIFEST_NAME, Manifest
from index.store import CURRENT_NAME, IndexStore, IndexVersion, version_name, version_number

__all__ = ["SharedStore", "fetch", "publish_to"]

_TMP_PREFIX = ".tmp-"
_FETCH_PREFIX = ".fetch-"
_FETCH_LOCK = ".fetch.lock"
_KEEP = 3
_CHUNK = 1 << 20
_PUBLIC_DIR_MODE = 0o755
_PASSWORD = re.compile(r"(://[^/@:]*):[^/@]*@")


class SharedStore:
    """The index versions under one shared URI (a folder or an fsspec URI)."""

    def __init__(self, uri: str) -> None:
        """Open the store at `uri`; nothing is read until it is used.

        Raises:
            StorageError: the URI names a protocol fsspec does not know or whose driver is not
                installed.
        """
        if not isinstance(uri, str) or not uri.strip():
            raise ValueError(f"the shared store URI must be a non-empty string, got {uri!r}")
        self._uri = _PASSWORD.sub(r"\1:***@", uri.strip().rstrip("/"))
        try:
            fs, root = fsspec.core.url_to_fs(uri.strip())
        except (ImportError, ValueError) as exc:  # unknown protocol, or its driver is missing
            raise StorageError(f"{self._uri}: cannot open the shared index store ({exc})") from None
        self._fs: Any = fs
        self._root: str = root.rstrip("/") or root
        # (shared CURRENT, local CURRENT) after the last fetch that found them in step, so that
        # a poll with nothing new reads one small file and no manifest.
        self._settled: tuple[str, str | None] | None = None

    @property
    def uri(self) -> str:
        """The store's URI, without a password it may hold (fit for messages and logs)."""
        return self._uri

    def __repr__(self) -> str:
        return f"SharedStore({self._uri!r})"

    def current_name(self) -> str | None:
        """The version CURRENT names, or None if nothing has been published yet.

        Raises StorageError if CURRENT cannot be read or does not name a version.
        """
        text = self._read_text(CURRENT_NAME)
        if text is None:
            return None
        name = text.strip()
        if version_number(name) is None:
            raise StorageError(
                f"{self.where(CURRENT_NAME)}: does not name a version (holds {text[:40]!r})"
            )
        return name

    def version_names(self) -> list[str]:
        """The names of the version directories in the store, oldest first."""
        with self._failing_as_storage_error(""):
            # Object-store drivers cache listings; another builder may have written since.
            self._fs.invalidate_cache(self._root)
            try:
                entries = self._fs.ls(self._root, detail=False)
            except FileNotFoundError:
                return []
        names = {str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries}
        return sorted((n for n in names if version_number(n) is not None), key=_number)

    def manifest(self, name: str) -> tuple[Manifest, str] | None:
        """Version `name`'s manifest and its text, or None if it has none (yet).

        Raises IndexLoadError if the manifest is not a valid one, StorageError if unreadable.
        """
        text = self._read_text(f"{name}/{MANIFEST_NAME}")
        if text is None:
            return None
        return Manifest.from_json(text, self.where(name, MANIFEST_NAME)), text

    def _path(self, relative: str) -> str:
        return f"{self._root}/{relative}" if relative else self._root

    def where(self, *parts: str) -> str:
        """The URI of `parts` inside the store, for messages (without a password)."""
        return "/".join((self._uri, *parts))

    @contextmanager
    def _failing_as_storage_error(self, relative: str) -> Iterator[None]:
        # Drivers raise their own exception types (botocore, aiohttp, ...), not only OSError;
        # whatever they raise must reach the caller as a StorageError naming the file.
        try:
            yield
        except (StorageError, FileNotFoundError):
            raise
        except Exception as exc:
            raise StorageError(f"{self.where(relative)}: {exc}") from exc

    def _read_text(self, relative: str) -> str | None:
        with self._failing_as_storage_error(relative):
            try:
                data: bytes = self._fs.cat_file(self._path(relative))
            except FileNotFoundError:
                return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StorageError(f"{self.where(relative)}: not UTF-8 text ({exc})") from None

    def write_atomically(self, relative: str, text: str) -> None:
        """Write `text` to the file `relative` (to the store) under a temporary name, then move
        it over the target, so that a reader sees the old text or the new, never a part."""
        folder, _, _ = relative.rpartition("/")
        tmp = f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        tmp = f"{folder}/{tmp}" if folder else tmp
        with self._failing_as_storage_error(relative):
            self._fs.makedirs(self._path(folder), exist_ok=True)
            self._fs.pipe_file(self._path(tmp), text.encode("utf-8"))
            try:
                self._fs.mv(self._path(tmp), self._path(relative))
            except BaseException:
                self._fs.rm(self._path(tmp))
                raise

    def upload(self, file: Path, relative: str) -> None:
        """Copy the local `file` to `relative` in the store (its folder is made if needed)."""
        with self._failing_as_storage_error(relative):
            self._fs.makedirs(self._path(relative.rpartition("/")[0]), exist_ok=True)
            self._fs.put_file(str(file), self._path(relative))

    def download(self, relative: str, dest: Path, digest: str) -> None:
        """Copy `relative` in the store to the local file `dest`, durably, checking on the way
        that its sha256 is `digest`; StorageError names the file if it is missing or differs.
        """
        checksum = hashlib.sha256()
        with self._failing_as_storage_error(relative):
            try:
                with self._fs.open(self._path(relative), "rb") as source, dest.open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        checksum.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except FileNotFoundError:
                raise StorageError(
                    f"{self.where(relative)}: missing (listed in {MANIFEST_NAME}); nothing was "
                    "installed"
                ) from None
        if checksum.hexdigest() != digest:
            raise StorageError(
                f"{self.where(relative)}: checksum mismatch (the upload is damaged or "
                "incomplete); nothing was installed"
            )

    def prune(self, keep: int) -> None:
        """Remove all but the newest `keep` versions (never CURRENT) and temporary files."""
        current = self.current_name()
        names = self.version_names()
        doomed = [n for n in names[: max(0, len(names) - keep)] if n != current]
        with self._failing_as_storage_error(""):
            for name in doomed:
                self._fs.rm(self._path(name), recursive=True)
            for entry in self._fs.ls(self._root, detail=False):
                if str(entry).rstrip("/").rsplit("/", 1)[-1].startswith(_TMP_PREFIX):
                    self._fs.rm(str(entry))


def publish_to(shared: SharedStore, local_store: IndexStore, version: IndexVersion) -> str:
    """Upload `version`, a published version of `local_store`, and make it the shared CURRENT.

    The files go first, then the manifest, then CURRENT. The shared name is the version's own,
    or the next number above every shared version if that is higher (names only grow, so a
    builder with a fresh home never overwrites a version replicas hold). A version uploaded
    before with the same manifest is not uploaded again: a retried publish only moves
    CURRENT. Versions beyond the newest three (never CURRENT) are removed afterwards.

    Only one builder may publish at a time: the caller holds the catalogue's writer lock.
    Returns the shared name. Raises StorageError naming the file that could not be written.
    """
    if version.path != local_store.root / version.name:
        raise ValueError(f"{version.path}: not a version of {local_store}")
    manifest_file = version.path / MANIFEST_NAME
    try:
        text = manifest_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"{manifest_file}: unreadable ({exc})") from exc
    manifest = Manifest.from_json(text, manifest_file)
    names = shared.version_names()
    try:
        known = shared.manifest(version.name) if version.name in names else None
    except IndexLoadError:
        known = None  # damaged: the name is taken all the same, the upload gets the next one
    if known is not None and known[1] == text:
        name = version.name
    else:
        top = max((_number(n) for n in names), default=0)
        name = version.name if _number(version.name) > top else version_name(top + 1)
        for file in sorted(manifest.files):
            shared.upload(version.path / file, f"{name}/{file}")
        crash_point("shared.after_files")
        shared.write_atomically(f"{name}/{MANIFEST_NAME}", text)
        crash_point("shared.after_manifest")
    shared.write_atomically(CURRENT_NAME, name + "\n")
    crash_point("shared.after_current")
    shared.prune(_KEEP)
    return name


def fetch(
    shared: SharedStore,
    local_store: IndexStore,
    *,
    expect_model: str | None = None,
    expect_dim: int | None = None,
) -> IndexVersion | None:
    """Make `local_store` serve the version the shared CURRENT names, copying it if needed.

    Returns the version made the local CURRENT, or None when there was nothing to do (nothing
    shared yet, or the local CURRENT already is that version). A local version with the same
    manifest is reused; otherwise the files are downloaded into a temporary directory inside the
    local root, each checked against the manifest's sha256, and the complete copy is renamed
    into place (under the shared name, or a higher local number if that is taken) and made the
    local CURRENT. Older local versions beyond three are removed, as a local publish does.

    Raises:
        IndexLoadError: the shared manifest is invalid, or names another model or dimension
            than `expect_model` / `expect_dim`.
        StorageError: a file could not be read, is missing or fails its checksum (named in
            the message). The local store is then unchanged.
    """
    name = shared.current_name()
    if name is None:
        return None
    if shared._settled == (name, _current_name(local_store)):
        return None
    local_store.root.mkdir(parents=True, exist_ok=True)
    with _fetch_lock(local_store.root):
        found = shared.manifest(name)
        if found is None:
            raise StorageError(
                f"{shared.where(CURRENT_NAME)}: names {name}, which has no {MANIFEST_NAME}"
            )
        manifest, text = found
        where = shared.where(name, MANIFEST_NAME)
        if expect_model is not None and manifest.model != expect_model:
            raise IndexLoadError(
                f"{where}: built with model {manifest.model!r}, configured model is "
                f"{expect_model!r}; not installed"
            )
        if expect_dim is not None and manifest.dim != expect_dim:
            raise IndexLoadError(
                f"{where}: built with dimension {manifest.dim}, configured dimension is "
                f"{expect_dim}; not installed"
            )
        current = _current_name(local_store)
        same = next((v for v in local_store.versions() if v.manifest == manifest), None)
        if same is not None and same.name == current:
            shared._settled = (name, current)
            return None
        if same is not None:
            local_store.make_current(same)
            shared._settled = (name, same.name)
            return same
        _remove_stale_fetches(local_store.root)
        installed = _download_and_install(shared, local_store, name, manifest, text)
        # A prune racing another process's may fail; the next fetch or publish finishes it.
        with suppress(OSError, StorageError):
            local_store.prune(keep=_KEEP, leftovers=False)
        shared._settled = (name, installed.name)
        return installed


def _download_and_install(
    shared: SharedStore, local_store: IndexStore, name: str, manifest: Manifest, text: str
) -> IndexVersion:
    tmp = Path(tempfile.mkdtemp(prefix=_FETCH_PREFIX, dir=local_store.root))
    try:
        tmp.chmod(_PUBLIC_DIR_MODE)  # mkdtemp's 0700 would hide it from a service user
        for file, digest in sorted(manifest.files.items()):
            shared.download(f"{name}/{file}", tmp / file, digest)
        crash_point("fetch.after_files")
        with (tmp / MANIFEST_NAME).open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_path(tmp)
        return local_store.install(tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _current_name(local_store: IndexStore) -> str | None:
    try:
        current = local_store.current()
    except IndexLoadError:
        return None  # a damaged local CURRENT is replaced by the fetched version
    return current.name if current is not None else None


@contextmanager
def _fetch_lock(root: Path) -> Iterator[None]:
    fd = os.open(root / _FETCH_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def _remove_stale_fetches(root: Path) -> None:
    # Called holding the fetch lock: a temporary directory seen now belongs to a fetch that
    # died, since every live fetch of this store holds the lock.
    for path in root.iterdir():
        if path.name.startswith(_FETCH_PREFIX):
            shutil.rmtree(path, ignore_errors=True)


def _number(name: str) -> int:
    return version_number(name) or 0
