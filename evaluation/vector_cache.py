"""A disk cache of embeddings keyed by model and text, so repeated evaluations embed nothing.

Each flush writes one shard ``shard-<n>.npz`` (keys, vectors, a format version and a checksum of
both) to a temporary name and renames it into place; a shard that fails its checksum is ignored
and its texts are embedded again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from recommender.embedding.embedder import Embedder

__all__ = ["CACHE_FORMAT_VERSION", "CachingEmbedder", "cache_key"]

CACHE_FORMAT_VERSION = 1


def cache_key(model: str, max_seq_length: int, text: str) -> bytes:
    """The 32-byte key of one text embedded by one model at one input length."""
    return hashlib.sha256(f"{model}\x00{max_seq_length}\x00{text}".encode()).digest()


def _checksum(keys: np.ndarray, vectors: np.ndarray) -> str:
    digest = hashlib.sha256(keys.tobytes())
    digest.update(np.ascontiguousarray(vectors, dtype="<f4").tobytes())
    return digest.hexdigest()


class CachingEmbedder:
    """An :class:`~recommender.embedding.embedder.Embedder` that looks texts up before embedding.

    The real model is loaded (by ``load``) only when some text is missing from the cache.
    """

    def __init__(
        self,
        directory: Path,
        *,
        model: str,
        max_seq_length: int,
        load: Callable[[], Embedder],
        backend: str = "",
    ) -> None:
        """Use (and create) the cache folder ``directory`` for ``model`` at ``max_seq_length``.

        ``backend`` (e.g. ``openvino-bf16``) names what computes the vectors: vectors of another
        backend or precision differ slightly, so each gets a folder of its own.
        """
        self._model = model
        self._max_seq = max_seq_length
        self._load = load
        self._real: Embedder | None = None
        variant = f"{model}\x00{max_seq_length}" + (f"\x00{backend}" if backend else "")
        self._dir = directory / hashlib.sha256(variant.encode()).hexdigest()[:16]
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._table: dict[bytes, np.ndarray] = {}
        self._dim: int | None = None
        self.hits = 0
        self.misses = 0
        self._read_shards()

    def _read_shards(self) -> None:
        for shard in sorted(self._dir.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    version = int(data["version"])
                    keys, vectors = data["keys"], data["vectors"]
                    stored = str(data["checksum"])
            except (OSError, ValueError, KeyError) as exc:
                warnings.warn(f"{shard}: unreadable embedding cache shard ({exc})", stacklevel=2)
                continue
            if version != CACHE_FORMAT_VERSION or stored != _checksum(keys, vectors):
                warnings.warn(f"{shard}: cache shard of another version or damaged", stacklevel=2)
                continue
            self._dim = int(vectors.shape[1])
            for key, vector in zip(keys.tolist(), vectors, strict=True):
                self._table[key] = vector

    def _write_shard(self, keys: list[bytes], vectors: np.ndarray) -> None:
        key_array = np.array(keys, dtype="S32")
        matrix = np.ascontiguousarray(vectors, dtype="<f4")
        handle, tmp = tempfile.mkstemp(dir=self._dir, prefix=".tmp-", suffix=".npz")
        os.close(handle)
        np.savez(
            tmp,
            version=np.array(CACHE_FORMAT_VERSION),
            keys=key_array,
            vectors=matrix,
            checksum=np.array(_checksum(key_array, matrix)),
        )
        # A unique name: several evaluations may fill the same cache at once.
        os.replace(tmp, self._dir / f"shard-{time.time_ns():020d}-{os.getpid()}.npz")

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self._embedder().dim
        return self._dim

    @property
    def backend(self) -> str:
        return "cache+" + (self._real.backend if self._real else "not loaded")

    def _embedder(self) -> Embedder:
        if self._real is None:
            self._real = self._load()
        return self._real

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit vectors of ``texts``, embedding (and caching) only those not seen before."""
        keys = [cache_key(self._model, self._max_seq, text) for text in texts]
        with self._lock:
            missing = [i for i, key in enumerate(keys) if key not in self._table]
            unique: dict[bytes, int] = {}
            for i in missing:
                unique.setdefault(keys[i], i)
            if unique:
                order = list(unique.values())
                vectors = self._embedder().encode([texts[i] for i in order], progress=progress)
                self._write_shard([keys[i] for i in order], vectors)
                for i, vector in zip(order, vectors, strict=True):
                    self._table[keys[i]] = vector
                self._dim = int(vectors.shape[1])
            self.misses += len(unique)
            self.hits += len(keys) - len(missing)
            if not keys:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self._table[key] for key in keys]).astype(np.float32)
