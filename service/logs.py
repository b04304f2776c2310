"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

Headers are never logged (they may hold API keys), nor are request bodies (draft text may be
unpublished news); an access line names the route, status and duration.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "REQUEST_ID_HEADER",
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


def new_request_id(incoming: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is a plain token of at most 128 characters, else a
    fresh random id."""
    if incoming and _ACCEPTED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


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
                "class": "logging.StreamHandler",
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
