"""Ranked lists and judgements as data: types, top-k selection, and TREC files on disk.

A *run* maps each query id to its ranked list of ``(doc id, score)``; *qrels* map each query id
to its judged documents and their relevance grade. Both are written in the TREC formats every
IR toolkit reads (``qid Q0 doc rank score tag`` and ``qid 0 doc rel``), so a run's figures can
be recomputed without newsrec, e.g. with ranx or trec_eval.

Scores in a run are strictly decreasing down each list, ties already broken by the order the
list was served in (:func:`ranked`), so every tool reads the lists in the same order.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "Qrels",
    "Run",
    "RunFileError",
    "check_ranked",
    "ranked",
    "read_qrels",
    "read_run",
    "top_k",
    "write_qrels",
    "write_run",
]

Run = dict[str, list[tuple[str, float]]]
Qrels = dict[str, dict[str, int]]


class RunFileError(ValueError):
    """A run or qrels file that cannot be read; the message names the file and line."""


def ranked(docs: Sequence[str]) -> list[tuple[str, float]]:
    """``docs`` in the order served, scored ``n, n - 1, ..., 1``.

    A list's own scores may tie (equal baseline scores) or rise (an editor's pin, the diversity
    penalty): scoring by the served rank keeps that order in every tool that re-sorts by score.
    """
    n = len(docs)
    return [(doc, float(n - i)) for i, doc in enumerate(docs)]


def check_ranked(run: Mapping[str, Sequence[tuple[str, float]]]) -> None:
    """Refuse a run whose scores do not strictly decrease down some list.

    Raises:
        ValueError: naming the first query and rank where a score does not drop.
    """
    for qid, items in run.items():
        for rank in range(1, len(items)):
            if not items[rank][1] < items[rank - 1][1]:
                raise ValueError(
                    f"run query {qid!r}: score at rank {rank + 1} ({items[rank][1]}) does not "
                    f"drop below rank {rank}'s ({items[rank - 1][1]}); build lists with ranked()"
                )


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` highest scores of each row, best first (ties by position).

    Args:
        scores: ``(queries, candidates)`` scores.
        k: list length; rows with fewer allowed candidates give shorter lists, padded with -1.
        allowed: optional boolean mask of the same shape; ``False`` entries are never chosen.
    """
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D, got shape {scores.shape}")
    masked = np.where(allowed, scores, -np.inf) if allowed is not None else scores
    n = masked.shape[1]
    k = min(k, n)
    if k <= 0:
        return np.full((masked.shape[0], 0), -1, dtype=np.int64)
    # Negate then stable-sort the k best, so equal scores keep candidate order (reproducible).
    part = (
        np.argpartition(-masked, k - 1, axis=1)[:, :k]
        if k < n
        else np.tile(np.arange(n), (masked.shape[0], 1))
    )
    rows = np.arange(masked.shape[0])[:, None]
    part_scores = masked[rows, part]
    order = np.lexsort((part, -part_scores), axis=1)
    best = part[rows, order]
    best_scores = masked[rows, best]
    return np.where(best_scores > -np.inf, best, -1).astype(np.int64)


def _open_write(path: Path) -> tuple[IO[str], str]:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(handle)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide results from the team
    if path.name.endswith(".gz"):
        return gzip.open(tmp, "wt", encoding="utf-8"), tmp
    return open(tmp, "w", encoding="utf-8"), tmp


def write_run(run: Mapping[str, Iterable[tuple[str, float]]], path: Path, tag: str) -> None:
    """Write ``run`` as a TREC run file (``.gz`` compresses), via a temporary name.

    Raises:
        ValueError: a list whose scores do not strictly decrease (see :func:`ranked`).
    """
    lists = {qid: list(items) for qid, items in run.items()}
    check_ranked(lists)
    path.parent.mkdir(parents=True, exist_ok=True)
    out, tmp = _open_write(path)
    with out:
        for qid in sorted(lists):
            for rank, (doc, score) in enumerate(lists[qid], start=1):
                out.write(f"{qid} Q0 {doc} {rank} {score:.9g} {tag}\n")
    os.replace(tmp, path)


def write_qrels(qrels: Mapping[str, Mapping[str, int]], path: Path) -> None:
    """Write ``qrels`` as a TREC qrels file (``.gz`` compresses), via a temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out, tmp = _open_write(path)
    with out:
        for qid in sorted(qrels):
            for doc, rel in sorted(qrels[qid].items()):
                out.write(f"{qid} 0 {doc} {rel}\n")
    os.replace(tmp, path)


def _lines(path: Path | str) -> Iterable[tuple[int, list[str]]]:
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.split()
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read ({exc})") from exc


def read_run(path: Path | str) -> Run:
    """Read a TREC run file back; lists keep their rank order."""
    ranked: dict[str, list[tuple[int, str, float]]] = {}
    for number, cells in _lines(path):
        if len(cells) != 6:
            raise RunFileError(f"{path}:{number}: expected 6 columns, got {len(cells)}")
        qid, _, doc, rank, score, _ = cells
        try:
            ranked.setdefault(qid, []).append((int(rank), doc, float(score)))
        except ValueError as exc:
            raise RunFileError(f"{path}:{number}: rank or score is not a number") from exc
    return {qid: [(d, s) for _, d, s in sorted(items)] for qid, items in ranked.items()}


def read_qrels(path: Path | str) -> Qrels:
    """Read a TREC qrels file back."""
    qrels: Qrels = {}
    for number, cells in _lines(path):
        if len(cells) != 4:
            raise RunFileError(f"{path}:{number}: expected 4 columns, got {len(cells)}")
        try:
            qrels.setdefault(cells[0], {})[cells[2]] = int(cells[3])
        except ValueError as exc:
            raise RunFileError(f"{path}:{number}: relevance is not an integer") from exc
    return qrels
