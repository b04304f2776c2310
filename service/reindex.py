"""A rebuild the service runs itself (``POST /admin/reindex``), beside serving.

The rebuild publishes a new index version exactly as ``newsrec reindex`` does; the service's
follower then loads it off to the side and swaps it in, so no request fails or sees a mix.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from index import Catalogue, IndexStore, StorageError
from recommender.ingestion.updates import LOCK_WAIT_SECONDS
from recommender.operations.indexing import publish_index
from recommender.operations.writer import writer_lock
from recommender.settings import Settings

__all__ = ["ReindexState", "Reindexer"]

_log = logging.getLogger("newsrec.reindex")


@dataclass(frozen=True, slots=True)
class ReindexState:
    """Whether a rebuild runs, and how the last one ended."""

    running: bool
    last_published: str | None
    last_error: str | None


class Reindexer:
    """Runs at most one rebuild at a time, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        """Rebuild the index of ``settings.home`` when asked."""
        self._settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._published: str | None = None
        self._error: str | None = None

    def start(self) -> bool:
        """Start a rebuild; False if one is already running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self._run, name="newsrec-reindex", daemon=True)
            self._thread.start()
            return True

    def state(self) -> ReindexState:
        """The current state."""
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            return ReindexState(running, self._published, self._error)

    def join(self, timeout: float | None = None) -> None:
        """Wait for a running rebuild to end (at shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        settings = self._settings
        try:
            with (
                writer_lock(settings, wait=LOCK_WAIT_SECONDS, purpose="service reindex"),
                Catalogue(settings.catalogue) as catalogue,
            ):
                version = publish_index(
                    catalogue, IndexStore(settings.index_root), settings, rebuild=True
                )
        except StorageError as exc:
            _log.error("rebuild failed: %s", exc)
            with self._lock:
                self._error = str(exc)
            return
        _log.info("rebuild published %s", version.name, extra={"published": version.name})
        with self._lock:
            self._published, self._error = version.name, None
