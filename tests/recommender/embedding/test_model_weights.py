"""Packaged models: a model split over installed packages is joined, unpacked once, and loads.

The split-archive tests install small real packages (a dist-info folder with a RECORD and one
archive chunk each) on ``sys.path``, the layout pip gives the all-mpnet-base-v2 parts, so the
lookup runs through ``importlib.metadata`` as it does for the real ones. The last test loads the
real all-mpnet-base-v2 where its packages are installed (``make install-mpnet``).
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.embedder import load_embedder
from recommender.embedding.model_weights import (
    MPNET,
    ModelUnavailable,
    SplitModel,
    resolve_model_path,
    unpacked_model,
)
from tests.conftest import SAMPLE, make_settings

_FILES = {
    "tiny-model/modules.json": b'[{"idx": 0}]',
    "tiny-model/config.json": b'{"hidden_size": 8}',
    "tiny-model/1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "tiny-model/model.safetensors": np.random.default_rng(0).bytes(16_384),
}


def _archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in _FILES.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def _install_parts(site: Path, name: str, archive: bytes, parts: int) -> SplitModel:
    """Packages ``<name>-part-001..`` on ``site``, each with one chunk of ``archive``."""
    size = -(-len(archive) // parts)
    dists = []
    for i in range(1, parts + 1):
        dist = f"{name}-part-{i:03d}"
        package = f"{name.replace('-', '_')}_part_{i:03d}"
        chunk = Path(package) / "input" / f"{name}.zip.{i:03d}"
        (site / chunk).parent.mkdir(parents=True)
        (site / chunk).write_bytes(archive[(i - 1) * size : i * size])
        info = site / f"{package}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{chunk.as_posix()},,\n{info.name}/METADATA,,\n")
        dists.append(dist)
    importlib.invalidate_caches()  # the path finder caches the folder's listing
    return SplitModel(name=name, parts=tuple(dists), install="pip install the parts")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_parts_are_joined_and_unpacked_once(site: Path, tmp_path: Path) -> None:
    model = _install_parts(site, "tiny-split", _archive(), parts=3)
    folder = unpacked_model(model, tmp_path / "cache")
    assert folder.name == "tiny-model"
    for name, data in _FILES.items():
        assert (folder.parent / name).read_bytes() == data
    marker = folder / "config.json"
    before = marker.stat().st_mtime_ns
    assert unpacked_model(model, tmp_path / "cache") == folder
    assert marker.stat().st_mtime_ns == before  # the second call unpacked nothing
    leftovers = [p.name for p in (tmp_path / "cache" / "models").iterdir()]
    assert len(leftovers) == 1 and not leftovers[0].startswith(".tmp-")


def test_a_missing_part_names_the_package_and_the_install_command(
    site: Path, tmp_path: Path
) -> None:
    model = _install_parts(site, "tiny-gap", _archive(), parts=3)
    missing = SplitModel(model.name, (*model.parts, "tiny-gap-part-004"), model.install)
    with pytest.raises(ModelUnavailable, match=r"tiny-gap-part-004.*pip install the parts"):
        unpacked_model(missing, tmp_path / "cache")
    assert not (tmp_path / "cache" / "models").exists()


def test_a_damaged_archive_leaves_nothing_that_looks_whole(site: Path, tmp_path: Path) -> None:
    archive = bytearray(_archive())
    archive[len(archive) // 3] ^= 0xFF  # one flipped byte inside the compressed data
    model = _install_parts(site, "tiny-bad", bytes(archive), parts=2)
    with pytest.raises(ModelUnavailable, match="damaged"):
        unpacked_model(model, tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_a_folder_without_its_mark_is_unpacked_again(site: Path, tmp_path: Path) -> None:
    model = _install_parts(site, "tiny-mark", _archive(), parts=2)
    folder = unpacked_model(model, tmp_path / "cache")
    (folder.parents[1] / ".complete").unlink()
    (folder / "config.json").write_bytes(b"half-written")
    again = unpacked_model(model, tmp_path / "cache")
    assert (again / "config.json").read_bytes() == _FILES["tiny-model/config.json"]


def test_paths_and_unknown_names_pass_through(tmp_path: Path) -> None:
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert resolve_model_path("my-org/my-model") == "my-org/my-model"


def _mpnet_installed() -> bool:
    try:
        for part in MPNET.parts:
            importlib.metadata.distribution(part)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(
    not _mpnet_installed(), reason="all-mpnet-base-v2 not installed (make install-mpnet)"
)
def test_mpnet_loads_by_name_and_ranks_a_paraphrase_first(tmp_path: Path) -> None:
    embedder = load_embedder(make_settings(tmp_path / "home", model="all-mpnet-base-v2"))
    assert embedder.dim == 768
    vectors = embedder.encode(
        [
            "Central bank raises interest rates to fight inflation",
            "The central bank lifted borrowing costs to curb rising prices",
            "Local team wins the football cup after extra time",
        ]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_a_chunk_deleted_after_install_is_reported(site: Path, tmp_path: Path) -> None:
    model = _install_parts(site, "tiny-lost", _archive(), parts=2)
    next(site.glob("tiny_lost_part_002/input/*.zip.002")).unlink()
    with pytest.raises(ModelUnavailable, match=r"tiny-lost-part-002.*missing"):
        unpacked_model(model, tmp_path / "cache")


def test_the_cli_says_in_one_line_that_the_model_cannot_load(tmp_path: Path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    env["NEWSREC_MODEL"] = str(empty)
    result = subprocess.run(
        [sys.executable, "-m", "recommender", "ingest", str(SAMPLE), "--home", str(tmp_path / "h")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("newsrec: error: model: ")
    assert str(empty) in result.stderr
