"""Named crash points, so that tests can kill a writer at an exact moment of a write.

Setting ``NEWSREC_TEST_CRASH_AT=publish.after_files`` makes the process SIGKILL itself the first
time it reaches that point; ``NAME#N`` waits for the N-th time (e.g. the second chunk of an
ingest). SIGKILL is used on purpose: no ``finally`` block, ``atexit`` hook or buffered write gets
to run, exactly as when the kernel's OOM killer or ``kill -9`` ends a job. Unset, a crash point
costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from typing import Final

__all__ = ["CRASH_ENV", "CRASH_POINTS", "crash_point"]

CRASH_ENV: Final = "NEWSREC_TEST_CRASH_AT"

#: Every crash point the storage layer passes, in the order a publish or upsert reaches them.
CRASH_POINTS: Final = (
    "catalogue.before_commit",  # an upsert's rows are written, its transaction not committed
    "publish.after_files",  # index files written and synced, no manifest yet
    "publish.after_rename",  # version directory complete and in place, CURRENT not switched
    "publish.after_current",  # CURRENT switched, old versions not pruned yet
    "prune.during",  # one old version set aside for deletion, not yet deleted
    "shared.after_files",  # a version's files uploaded to the shared store, no manifest yet
    "shared.after_manifest",  # its manifest uploaded, the shared CURRENT not switched
    "shared.after_current",  # the shared CURRENT switched, old shared versions not pruned yet
    "fetch.after_files",  # a fetched version's files downloaded and verified, not installed
)

_reached: dict[str, int] = {}


def crash_point(name: str) -> None:
    """SIGKILL this process if ``NEWSREC_TEST_CRASH_AT`` names `name` (and its count is due)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
