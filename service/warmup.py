"""Loading the embedding model when a worker starts, so that its first write is not slow.

A write embeds its text, and the model takes seconds to load (more under load): loaded on
first use, the first write after a start or deploy waited for it. A worker that takes writes
(a write key is set) loads it on a thread at start, runs it on each input length, and says in
``/readyz`` that it is not ready until then; a worker with writes disabled loads it on the first
draft instead.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from recommender.serving.engine import Engine

__all__ = ["ModelState", "ModelWarmup"]

_log = logging.getLogger("newsrec.service")

# Words of one token each, so that texts of 8, 40, ... 232 words fill each of the OpenVINO
# backend's 32-token input lengths once, up to the bundled model's limit of 256 tokens.
_WARM_TEXT = "the city council said new plans for a river bridge would open next year"
_WARM_WORDS = range(8, 264, 32)

ModelState = Literal["loading", "loaded", "failed", "loads on first use"]


class ModelWarmup:
    """The embedding model of one worker: loaded at start, or on first use."""

    def __init__(self, engine: Engine, *, at_start: bool) -> None:
        """Load ``engine``'s model at start when ``at_start`` (call :meth:`start`)."""
        self._engine = engine
        self._at_start = at_start
        self._done = threading.Event()
        self._error: str | None = None

    def start(self) -> None:
        """Begin loading on a thread, if this worker loads the model at start."""
        if self._at_start:
            threading.Thread(target=self._load, name="newsrec-model", daemon=True).start()

    @property
    def state(self) -> ModelState:
        """Where the model stands."""
        if not self._at_start:
            return "loads on first use"
        if not self._done.is_set():
            return "loading"
        return "failed" if self._error is not None else "loaded"

    @property
    def not_ready(self) -> str | None:
        """Why this worker is not ready to take writes yet, or None."""
        state = self.state
        if state == "loading":
            return "the embedding model is loading"
        if state == "failed":
            return f"the embedding model could not be loaded: {self._error}"
        return None

    def _load(self) -> None:
        try:
            embedder = self._engine.embedder
            # The first run of each input length costs more than the rest (the OpenVINO
            # backend picks kernels per shape, and pads inputs to a few lengths): one text as a
            # write sends it, of every length, run twice (each of its two requests in flight
            # is cold at first).
            vocabulary = _WARM_TEXT.split()
            for words in _WARM_WORDS:
                text = " ".join(vocabulary[i % len(vocabulary)] for i in range(words))
                for _ in range(2):
                    embedder.encode([text])
            _log.info("embedding model ready: %s", self._engine.embedder.backend)
        except Exception as exc:  # writes report the same failure to their callers
            self._error = str(exc) or type(exc).__name__
            _log.exception("could not load the embedding model")
        finally:
            self._done.set()
