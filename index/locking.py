"""The single-writer lock that keeps two ingest/reindex jobs from writing at once."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from index.errors import LockedError

__all__ = ["LOCK_NAME", "WriterLock"]

LOCK_NAME = "writer.lock"
_POLL_SECONDS = 0.05


class WriterLock:
    """Exclusive advisory lock (fcntl.flock) on HOME/writer.lock, used as a context manager.

    The kernel releases the lock when the holder exits or crashes, so a stale lock file never
    blocks anyone; the pid and purpose written into it only serve the error message.
    The lock is per open file, so taking it twice in one process also fails with LockedError.
    """

    def __init__(self, home: Path, wait: float = 0.0, purpose: str = "") -> None:
        """Prepare to lock `home`; wait up to `wait` seconds for another holder to finish."""
        if not wait >= 0:  # also rejects NaN
            raise ValueError(f"wait must be a non-negative number of seconds, got {wait!r}")
        self._home = Path(home)
        self._wait = float(wait)
        self._purpose = purpose
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._home / LOCK_NAME

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def __enter__(self) -> WriterLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: this WriterLock is already held")
        self._home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            self._record_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Clear the holder details first so that nobody reads them after we let go.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockedError(self._held_message(fd)) from None
                time.sleep(min(_POLL_SECONDS, remaining))

    def _record_holder(self, fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "purpose": self._purpose,
            "command": " ".join(sys.argv)[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)

    def _held_message(self, fd: int) -> str:
        try:
            holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
            pid = int(holder["pid"])
            what = str(holder.get("purpose") or holder.get("command") or "unknown job")
            who = f"pid {pid}, {what!r}"
        except (OSError, ValueError, KeyError, TypeError):
            # The holder may be between taking the lock and writing its details.
            who = "pid unknown"
        return (
            f"another newsrec job ({who}) is writing to {self._home}; "
            "wait for it to finish or retry"
        )
