"""Checking and coercing the numpy arrays that cross the vector-index boundary.

Both index implementations hand these arrays to faiss, which needs C-contiguous int64 ids and
float32 matrices and gives unhelpful errors (or wrong answers) otherwise, so the checks live in
one place and produce messages that say what was passed and what was expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "NORM_TOLERANCE",
    "as_doc_ids",
    "as_k",
    "as_vectors",
    "check_dim",
    "check_normalised",
    "check_rows_match",
    "check_unique",
]

# Float32 embeddings normalised by the model are within ~1e-6 of unit length; 1e-3 only rejects
# vectors that were never normalised, without tripping on rounding.
NORM_TOLERANCE = 1e-3


def check_dim(dim: object) -> int:
    """Return `dim` if it is a positive int, else raise ValueError."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim <= 0:
        raise ValueError(f"dimension must be a positive integer, got {dim!r}")
    return int(dim)


def as_doc_ids(doc_ids: npt.ArrayLike, *, what: str = "doc_ids") -> npt.NDArray[np.int64]:
    """Return `doc_ids` as a contiguous 1-D int64 array of non-negative ids.

    Raises ValueError if it is not one-dimensional, not integer, or holds a negative id (-1 is
    the padding value in search results, so it can never be a real id).
    """
    arr = np.asarray(doc_ids)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.unsignedinteger) and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{what} holds {int(arr.max())}, which does not fit in int64")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if int(out.min()) < 0:
        raise ValueError(f"{what} must be non-negative, got {int(out.min())}")
    return out


def as_vectors(
    vectors: npt.ArrayLike, dim: int, *, what: str = "vectors"
) -> npt.NDArray[np.float32]:
    """Return `vectors` as a contiguous (n, dim) float32 matrix of finite values.

    Any floating dtype is accepted and converted; integer or object arrays are refused because
    they almost always mean the wrong array was passed.
    """
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        hint = " (wrap a single vector as vec[None, :])" if arr.ndim == 1 else ""
        raise ValueError(f"{what} must be a 2-D (n, {dim}) matrix, got shape {arr.shape}{hint}")
    if arr.shape[1] != dim:
        raise ValueError(f"{what} have dimension {arr.shape[1]}, index has {dim}")
    if arr.shape[0] == 0:
        return np.empty((0, dim), dtype=np.float32)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what} must be floating point, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
        raise ValueError(f"{what} row {bad} contains NaN or infinity")
    return out


def check_normalised(vectors: npt.NDArray[np.float32], doc_ids: npt.NDArray[np.int64]) -> None:
    """Raise ValueError naming the first doc id whose vector is not of unit L2 norm.

    Scores are documented as cosine similarities; an unnormalised vector would silently make
    them unbounded and break any threshold a caller applies.
    """
    if vectors.shape[0] == 0:
        return
    norms = np.linalg.norm(vectors, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > NORM_TOLERANCE)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"vector for doc_id {int(doc_ids[i])} is not L2-normalised (norm {norms[i]:.4f})"
        )


def as_k(k: Any) -> int:
    """Return `k` if it is a non-negative int, else raise ValueError."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return int(k)


def check_unique(doc_ids: npt.NDArray[np.int64]) -> None:
    """Raise ValueError naming a repeated id; one add() must not give an id two vectors."""
    if doc_ids.size < 2:
        return
    ordered = np.sort(doc_ids)
    dup = np.flatnonzero(ordered[1:] == ordered[:-1])
    if dup.size:
        raise ValueError(f"doc_ids contain {int(ordered[dup[0]])} more than once")


def check_rows_match(doc_ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
    """Raise ValueError unless there is exactly one vector per id."""
    if doc_ids.shape[0] != vectors.shape[0]:
        raise ValueError(f"got {doc_ids.shape[0]} doc_ids but {vectors.shape[0]} vectors")
