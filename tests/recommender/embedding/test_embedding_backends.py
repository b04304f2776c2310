"""Every embedding backend keeps the ``Embedder`` contract; the fast path matches fp32."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.embedder import (
    Embedder,
    ModelUnavailable,
    SentenceTransformerEmbedder,
    cpu_has_native_bf16,
    load_embedder,
    planned_backend,
    vector_identity,
)
from recommender.embedding.openvino import OpenVINOEmbedder, ensure_export, verified_export
from recommender.serving.engine import Engine
from recommender.settings import BUNDLED_MODEL
from tests.conftest import make_settings

TEXTS = [
    "Storm Ingrid: river peaks at 4.2m as towns brace for flooding",
    "Central bank holds rates, signals cuts later in the year",
    "",
    "ünïcødé headline — 中文 — عربي",
    "A long story. " * 200,  # longer than the model's 256-token window
]


@pytest.fixture(scope="session")
def openvino_embedder() -> Embedder:
    """The OpenVINO backend over the bundled model (exported into the user cache once), unquantised:
    bf16 where the CPU has it, else fp32."""
    return OpenVINOEmbedder(precision="bf16" if cpu_has_native_bf16() else "fp32")


@pytest.fixture(scope="session")
def int8_embedder() -> Embedder:
    """The bundled model quantised to int8 (quantised into the user cache once, ~40 s)."""
    return OpenVINOEmbedder(precision="int8")


class EmbedderContract:
    """What every backend must do; subclasses provide the ``backend_under_test`` fixture."""

    def test_vectors_are_unit_float32_rows(self, backend_under_test: Embedder) -> None:
        vectors = backend_under_test.encode(TEXTS)
        assert vectors.shape == (len(TEXTS), backend_under_test.dim)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_no_texts_give_an_empty_matrix(self, backend_under_test: Embedder) -> None:
        assert backend_under_test.encode([]).shape == (0, backend_under_test.dim)

    def test_batch_equals_one_at_a_time(self, backend_under_test: Embedder) -> None:
        batch = backend_under_test.encode(TEXTS)
        single = np.vstack([backend_under_test.encode([t]) for t in TEXTS])
        np.testing.assert_allclose((batch * single).sum(axis=1), 1.0, atol=1e-3)

    def test_backend_names_its_path(self, backend_under_test: Embedder) -> None:
        engine, precision = backend_under_test.backend.split("-")
        assert engine in {"torch", "openvino"} and precision in {"fp32", "bf16", "int8"}


class TestTorchBackend(EmbedderContract):
    @pytest.fixture
    def backend_under_test(self, embedder: Embedder) -> Embedder:
        return embedder


class TestOpenVINOBackend(EmbedderContract):
    @pytest.fixture
    def backend_under_test(self, openvino_embedder: Embedder) -> Embedder:
        return openvino_embedder

    def test_vectors_match_torch_fp32(self, openvino_embedder: Embedder) -> None:
        reference = SentenceTransformerEmbedder(precision="fp32").encode(TEXTS)
        cosines = (openvino_embedder.encode(TEXTS) * reference).sum(axis=1)
        assert cosines.min() > 0.999


NEWS = [
    "Storm Ingrid: river peaks at 4.2m as towns brace for flooding",
    "Central bank holds rates, signals cuts later in the year",
    "Harborview council approves the new tram line after a long public consultation. The first "
    "stretch, from the harbour to the university, opens in two years; fares stay at one euro.",
    "Striker signs a three-year deal with the city club, ending months of talks. " * 8,
]


@pytest.mark.slow
class TestOpenVINOInt8Backend(EmbedderContract):
    @pytest.fixture
    def backend_under_test(self, int8_embedder: Embedder) -> Embedder:
        return int8_embedder

    def test_it_says_it_runs_in_int8(self, int8_embedder: Embedder) -> None:
        assert int8_embedder.backend == "openvino-int8"

    def test_vectors_are_close_to_torch_fp32(self, int8_embedder: Embedder) -> None:
        reference = SentenceTransformerEmbedder(precision="fp32").encode(NEWS)
        cosines = (int8_embedder.encode(NEWS) * reference).sum(axis=1)
        assert cosines.min() > 0.98

    def test_the_int8_export_is_cached_beside_the_fp32_one(self, int8_embedder: Embedder) -> None:
        cache = _cache_of(int8_embedder)
        fp32, _ = ensure_export(BUNDLED_MODEL, cache)
        int8, manifest = ensure_export(BUNDLED_MODEL, cache, "int8")
        assert int8.parent == fp32.parent and int8.name.startswith(f"{fp32.name}-int8-")
        assert manifest["precision"] == "int8" and manifest["calibration"]["texts"] > 0
        assert verified_export(int8) == manifest


def test_damaged_export_is_not_trusted(tmp_path: Path, openvino_embedder: Embedder) -> None:
    folder, _ = ensure_export(BUNDLED_MODEL, _cache_of(openvino_embedder))
    copy = tmp_path / "export"
    shutil.copytree(folder, copy)
    weights = copy / "model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert verified_export(folder) is not None
    assert verified_export(copy) is None


def _cache_of(embedder: Embedder) -> Path:
    assert isinstance(embedder, OpenVINOEmbedder)
    return embedder.cache_dir


@pytest.mark.parametrize(
    ("backend", "precision", "starts"),
    [
        ("torch", "fp32", "torch-fp32"),
        ("openvino", "fp32", "openvino-fp32"),
        ("torch", "bf16", "torch-bf16"),
        ("openvino", "bf16", "openvino-bf16"),
        ("openvino", "int8", "openvino-int8"),
        ("auto", "int8", "openvino-int8"),
    ],
)
def test_planned_backend_follows_the_settings(
    tmp_path: Path, backend: str, precision: str, starts: str
) -> None:
    settings = make_settings(tmp_path, embed_backend=backend, embed_precision=precision)
    assert planned_backend(settings) == starts


def test_status_names_the_planned_path_without_loading_the_model(sample_home: Path) -> None:
    settings = make_settings(sample_home, embed_backend="openvino", embed_precision="fp32")
    engine = Engine(settings)
    try:
        assert engine.status()["embedding_backend"] == "openvino-fp32 (not loaded yet)"
    finally:
        engine.close()


def test_torch_refuses_int8_with_a_clear_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, embed_backend="torch", embed_precision="int8")
    with pytest.raises(ModelUnavailable, match="OpenVINO backend only"):
        load_embedder(settings)


def test_int8_vectors_are_cached_apart_from_fp32_ones(tmp_path: Path) -> None:
    fp32 = make_settings(tmp_path, embed_backend="openvino", embed_precision="fp32")
    bf16 = make_settings(tmp_path, embed_backend="openvino", embed_precision="bf16")
    int8 = make_settings(tmp_path, embed_backend="openvino", embed_precision="int8")
    assert vector_identity(fp32) == vector_identity(bf16) != vector_identity(int8)
