"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

Headers are never logged (they may hold API keys), nor are request bodies (draft text may be
unpublished news); an access line names the route, status and duration.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "REQUEST_ID_HEADER",
    "BatchedStreamHandler",
    "JsonFormatter",
    "log_config",
    "new_request_id",
    "request_id",
    "skip_unlogged_record_fields",
]

REQUEST_ID_HEADER = "X-Request-ID"

#: The id of the request being handled, for log lines written while handling it.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "newsrec_request_id", default=None
)

# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
# A caller's id is echoed into logs and headers, so only plain tokens are accepted from outside.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


# Ids made here: a random prefix per process and a counter, 32 hex digits in all. Unique
# without asking the system for randomness on every request, and ids need not be secret.
_ID_PREFIX = (-1, "")
_ID_COUNTER = itertools.count()


def new_request_id(incoming: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is a plain token of at most 128 characters, else a
    fresh id, unique across this host's processes."""
    global _ID_PREFIX
    if incoming and _ACCEPTED_ID.fullmatch(incoming):
        return incoming
    pid, prefix = _ID_PREFIX
    if pid != os.getpid():  # a new process (a forked worker too) takes a prefix of its own
        pid, prefix = os.getpid(), os.urandom(8).hex()
        _ID_PREFIX = (pid, prefix)
    return f"{prefix}{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """A stream handler that writes the routine lines of busy loggers in batches.

    A write per access line was a system call for every request, a few percent of the
    service's throughput. Info lines (or quieter) of the ``batched`` loggers are kept and
    written at most ``interval`` seconds later; any other line is written at once, together
    with every line kept before it, so lines stay in order and a service that stops writes
    its last access lines with its "stopped" line.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 0.2,
        batched: tuple[str, ...] = ("newsrec.access",),
    ) -> None:
        """Write to ``stream`` (stderr if None); keep lines of ``batched`` loggers up to
        ``interval`` seconds."""
        super().__init__(stream)
        self.interval = interval
        self.batched = frozenset(batched)
        self._pending: list[str] = []
        self._writer: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's line, or write it now with those kept before it."""
        try:
            self._pending.append(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        if record.levelno > logging.INFO or record.name not in self.batched:
            self._write()
        elif self._writer is None or not self._writer.is_alive():
            # Started here rather than at construction, so that each process has its own.
            self._writer = threading.Thread(
                target=self._write_every_interval, name="newsrec-log-writer", daemon=True
            )
            self._writer.start()

    def flush(self) -> None:
        """Write every line kept so far."""
        self.acquire()
        try:
            self._write()
        finally:
            self.release()

    def _write(self) -> None:
        # Called with the handler's lock held.
        if self._pending:
            lines, self._pending = "".join(self._pending), []
            self.stream.write(lines)
        if hasattr(self.stream, "flush"):
            self.stream.flush()

    def _write_every_interval(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.flush()
            except Exception:  # a closed stream at exit: nothing left to write to
                return


def skip_unlogged_record_fields() -> None:
    """Stop :mod:`logging` from working out what :class:`JsonFormatter` never writes.

    Every record otherwise looks up its caller's file and line, thread name and process name,
    a fair part of the cost of the one access line per request. The process id stays. These
    are the switches the :mod:`logging` documentation names for this ("Optimization").
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and newsrec: JSON lines on stderr.

    uvicorn's own access log is switched off; the service writes one access line per request
    itself, with the request id and the route template rather than the raw query string.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": f"{__name__}.BatchedStreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "newsrec": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
