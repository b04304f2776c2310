"""The one writer of a catalogue: which lock keeps two writing jobs apart.

On one machine the catalogue is a file in the home, and a lock file beside it does. With a
shared PostgreSQL catalogue the writers run on several machines with homes of their own, so the
lock must live where the catalogue does: a PostgreSQL advisory lock, which the server releases
when the holder's connection ends, crash or not (:class:`index.locking.DatabaseLock`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from index.locking import DatabaseLock, WriterLock
from recommender.settings import Settings

__all__ = ["writer_lock"]


def writer_lock(
    settings: Settings, *, wait: float = 0.0, purpose: str = ""
) -> AbstractContextManager[object]:
    """The lock a job holds while it writes to ``settings``' catalogue or publishes an index.

    ``wait`` is how long to wait for another holder before ``index.LockedError``.
    """
    if settings.catalogue_url is not None:
        return DatabaseLock(settings.catalogue_url.get_secret_value(), wait=wait, purpose=purpose)
    return WriterLock(settings.home, wait=wait, purpose=purpose)
