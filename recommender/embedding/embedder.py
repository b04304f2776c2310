"""Turning article text into unit vectors, offline: the ``Embedder`` interface and its backends.

Both backends run the same sentence-transformers model from its installed weights:

- torch (:class:`SentenceTransformerEmbedder`), in fp32, or bf16 where the CPU has it;
- OpenVINO (:class:`recommender.embedding.openvino.OpenVINOEmbedder`), the model exported once
  from the same weights, in the precision :mod:`recommender.embedding.precision` chooses from
  the CPU's features (bf16 with AMX, int8 with AVX512-VNNI, else fp32), or the one forced by
  ``embed_precision``.

``embed_backend = "auto"`` takes OpenVINO where it is installed (BENCHMARKS.md measures each
path against sentence-transformers in fp32). :func:`planned_backend` says which path will run
without loading anything.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from recommender.embedding.model_weights import ModelUnavailable, resolve_model_path
from recommender.embedding.precision import resolve_precision
from recommender.embedding.quiet import quiet_model_libraries
from recommender.settings import BUNDLED_MODEL, Settings

__all__ = [
    "Embedder",
    "ModelUnavailable",
    "SentenceTransformerEmbedder",
    "cpu_has_native_bf16",
    "load_embedder",
    "planned_backend",
    "resolve_model_path",
    "unit_rows",
    "vector_identity",
]

_log = logging.getLogger("newsrec.embedding")

# Weights come from a package or a local path, never from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    @property
    def model_name(self) -> str:
        """The model's name as recorded in index manifests."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    @property
    def backend(self) -> str:
        """How vectors are computed (e.g. ``torch-bf16``), shown by ``newsrec status``."""
        ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit vectors."""
        ...


@cache
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX512-BF16 or AMX), so bf16 pays off."""
    if sys.platform != "linux":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with every row scaled to length 1 (zero rows stay zero).

    bf16 inference leaves norms a little off 1, and inner products must be cosines.
    """
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray = matrix / np.maximum(norms, 1e-12)
    return unit


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, in fp32 or bf16."""

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        max_seq_length: int = 256,
        batch_size: int = 32,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        """Load ``model`` (a name or a path; see :func:`resolve_model_path`) for CPU inference.

        Raises:
            ModelUnavailable: the model cannot be loaded, or ``precision`` is ``int8`` (an
                OpenVINO-only path).
        """
        if precision == "int8":
            raise ModelUnavailable(
                "embed_precision 'int8' runs on the OpenVINO backend only; set "
                "NEWSREC_EMBED_BACKEND=openvino (or auto), or another precision"
            )
        from sentence_transformers import SentenceTransformer

        self._name = model
        path = resolve_model_path(model, cache_dir)
        try:
            with quiet_model_libraries():
                self._model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"cannot load model {model!r} offline ({exc}); name a local path or an "
                "installed package's model in NEWSREC_MODEL"
            ) from exc
        self._model.max_seq_length = min(max_seq_length, self._model.max_seq_length or 512)
        self._batch_size = batch_size
        use_bf16 = _uses_bf16(precision)
        if use_bf16:
            import torch

            self._model = self._model.to(torch.bfloat16)
        self._backend = "torch-bf16" if use_bf16 else "torch-fp32"
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ModelUnavailable(f"model {model!r} does not declare an embedding dimension")
        self._dim = int(dim)
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def backend(self) -> str:
        return self._backend

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` in batches; returns unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return unit_rows(np.ascontiguousarray(vectors, dtype=np.float32))


def _uses_bf16(precision: str) -> bool:
    """Whether torch runs in bf16: it has no int8 path, so ``auto`` means bf16 where native."""
    return precision == "bf16" or (precision == "auto" and cpu_has_native_bf16())


def _openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def planned_backend(settings: Settings) -> str:
    """The path :func:`load_embedder` takes with these settings, told without loading a model.

    ``openvino-<precision>`` where openvino is installed, with the precision forced by
    ``embed_precision`` or chosen from the CPU's features
    (:func:`~recommender.embedding.precision.choose_precision`); ``torch-bf16`` or
    ``torch-fp32`` when the torch backend is asked for or openvino is missing (``int8`` then
    names ``openvino-int8``, which fails to load with a message saying why).
    """
    use_openvino = settings.embed_backend == "openvino" or (
        settings.embed_backend == "auto"
        and (_openvino_installed() or settings.embed_precision == "int8")
    )
    if use_openvino:
        return f"openvino-{resolve_precision(settings.embed_precision)}"
    return f"torch-{'bf16' if _uses_bf16(settings.embed_precision) else 'fp32'}"


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (see :func:`planned_backend`).

    Where ``auto`` chose int8 and the model cannot be quantised, OpenVINO runs it in fp32;
    with ``embed_backend = "auto"`` a model that cannot be exported to OpenVINO at all is run
    by torch. Each fallback logs a warning saying why.

    Raises:
        ModelUnavailable: the model cannot be loaded, or ``openvino`` or ``int8`` was asked for
            and cannot run it.
    """
    planned = planned_backend(settings)
    if planned.startswith("openvino"):
        from recommender.embedding.openvino import OpenVINOEmbedder

        attempts = [settings.embed_precision]
        if planned == "openvino-int8" and settings.embed_precision == "auto":
            attempts.append("fp32")
        failure: ModelUnavailable | None = None
        for precision in attempts:
            try:
                return OpenVINOEmbedder(
                    settings.model,
                    max_seq_length=settings.max_seq_length,
                    batch_size=settings.batch_size,
                    precision=precision,
                    cache_dir=settings.model_cache,
                )
            except ModelUnavailable as exc:
                _log.warning("OpenVINO %s unavailable: %s", precision, exc)
                failure = exc
        if failure and (settings.embed_backend == "openvino" or settings.embed_precision == "int8"):
            raise failure
    return SentenceTransformerEmbedder(
        settings.model,
        max_seq_length=settings.max_seq_length,
        batch_size=settings.batch_size,
        precision=settings.embed_precision,
        cache_dir=settings.model_cache,
    )


def vector_identity(settings: Settings) -> str:
    """The name vectors made with these settings are cached under, beside the input length.

    The model, and ``|int8`` on the int8 path: int8 vectors differ from fp32 ones enough to
    matter in a comparison, while bf16 and fp32 vectors agree to cosine 0.9999 and share.
    """
    if planned_backend(settings).endswith("-int8"):
        return f"{settings.model}|int8"
    return settings.model
