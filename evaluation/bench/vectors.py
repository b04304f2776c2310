"""Real corpora embedded once with newsrec's own embedder and kept in the work folder.

Each cached matrix is ``<name>.npy`` beside ``<name>.json`` (format version, the embedding path,
the texts' digest and the array's sha256); a file whose record disagrees is embedded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from recommender.embedding.embedder import Embedder

__all__ = ["CACHE_FORMAT", "cached_vectors"]

CACHE_FORMAT = 1


def _digest_texts(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    return digest.hexdigest()


def _digest_array(array: npt.NDArray[np.float32]) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def cached_vectors(
    work: Path, name: str, texts: Sequence[str], embedder: Embedder, *, progress: bool = False
) -> npt.NDArray[np.float32]:
    """``texts`` embedded by ``embedder``, read from ``work/vectors`` when embedded before."""
    folder = work / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "format": CACHE_FORMAT,
        "backend": embedder.backend,
        "model": embedder.model_name,
        "texts": _digest_texts(texts),
        "count": len(texts),
    }
    array_file, record_file = folder / f"{name}.npy", folder / f"{name}.json"
    try:
        stored = json.loads(record_file.read_text(encoding="utf-8"))
        if {k: stored.get(k) for k in record} == record:
            vectors = np.load(array_file, allow_pickle=False)
            if _digest_array(vectors) == stored.get("sha256"):
                return np.asarray(vectors, dtype=np.float32)
    except (OSError, ValueError):
        pass
    vectors = embedder.encode(list(texts), progress=progress)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npy", dir=folder)
    with os.fdopen(fd, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
    os.replace(tmp, array_file)
    record["sha256"] = _digest_array(vectors)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, record_file)
    return vectors
