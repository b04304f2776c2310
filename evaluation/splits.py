"""Seeded splits and samples: which half a reader falls in, which sources a run reports.

A hash of ``(seed, salt, key)`` decides, so a split does not depend on file order and the same
seed always gives the same split.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["hash_unit", "in_first_part", "seeded_sample"]

T = TypeVar("T")


def hash_unit(key: str, seed: int, salt: str) -> float:
    """A number in [0, 1) fixed by ``key``, ``seed`` and ``salt``."""
    digest = hashlib.sha256(f"{seed}\x00{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_first_part(key: str, seed: int, salt: str, fraction: float = 0.5) -> bool:
    """True for about ``fraction`` of keys: the first part of a seeded split.

    Raises:
        ValueError: ``fraction`` outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    return hash_unit(key, seed, salt) < fraction


def seeded_sample(
    items: Sequence[T], limit: int | None, seed: int, key: Callable[[T], str]
) -> list[T]:
    """At most ``limit`` of ``items``: all of them if they are no more, else a seeded random
    sample sorted by ``key``.
    """
    if limit is None or len(items) <= limit:
        return list(items)
    return sorted(random.Random(seed).sample(list(items), limit), key=key)
