"""Repeated measurement: every figure the benchmark prints is a median over several runs.

The machine is shared, so single runs are noise; medians over repeats, and ratios between
figures taken in the same run (interleaved, so a busy spell hits both sides), are what the
report states.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Repeated", "interleaved", "repeat"]


@dataclass(frozen=True, slots=True)
class Repeated:
    """Seconds taken by each repeat of one measurement."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median repeat, in seconds."""
        return statistics.median(self.seconds)

    def rate(self, items: int) -> float:
        """Items per second at the median repeat."""
        return items / self.median if self.median > 0 else float("inf")


def repeat(action: Callable[[], object], repeats: int, *, warmup: int = 1) -> Repeated:
    """Run ``action`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        action()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return Repeated(tuple(seconds))


def interleaved(
    actions: Sequence[Callable[[], object]], repeats: int, *, warmup: int = 1
) -> list[Repeated]:
    """Time several actions in turn, round after round, so each sees the same machine load.

    Returns one :class:`Repeated` per action; ``result[i].seconds[r] / result[j].seconds[r]``
    is a ratio taken under the same conditions.
    """
    for action in actions:
        for _ in range(warmup):
            action()
    seconds: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for i, action in enumerate(actions):
            start = time.perf_counter()
            action()
            seconds[i].append(time.perf_counter() - start)
    return [Repeated(tuple(s)) for s in seconds]
