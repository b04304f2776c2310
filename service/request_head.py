"""Limits on a request's head: its size, its number of headers and the time it takes to arrive.

uvicorn's httptools protocol buffers a request head of any size and waits for it for ever, so
one client could hold memory with a huge header or hold a connection open by sending a byte
now and then. :class:`LimitedHttpToolsProtocol` keeps uvicorn's fast C parser and adds the
three limits a front server would enforce:

- a head (request line and headers) over ``max_header_bytes`` is answered 431 and the
  connection closed; the bytes are counted before they reach the parser, so at most that many
  are ever buffered for one request;
- more than ``max_headers`` header lines are answered 431;
- a head not complete ``header_timeout_seconds`` after its first byte (or after the
  connection opened, for the first request) is answered 408 and the connection closed.

The body is not limited here: :class:`service.limits.BodySizeLimit` does that. ``serve``
passes the limits to every worker through the environment variables named in
:data:`LIMIT_ENV`; a worker started without them uses the settings' defaults.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from recommender.settings import Settings

__all__ = ["LIMIT_ENV", "HeadLimits", "LimitedHttpToolsProtocol"]

#: The environment variable each limit travels in from ``serve`` to its workers.
LIMIT_ENV = {
    "max_header_bytes": "NEWSREC_MAX_HEADER_BYTES",
    "max_headers": "NEWSREC_MAX_HEADERS",
    "header_timeout_seconds": "NEWSREC_HEADER_TIMEOUT_SECONDS",
}


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """How large, how many headers and how slow a request head may be."""

    max_header_bytes: int
    max_headers: int
    header_timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadLimits:
        """The limits configured in ``settings``."""
        return cls(settings.max_header_bytes, settings.max_headers, settings.header_timeout_seconds)

    @classmethod
    def from_environment(cls) -> HeadLimits:
        """The limits ``serve`` exported, or the settings' defaults where it exported none."""
        fields = Settings.model_fields

        def value(name: str) -> str:
            return os.environ.get(LIMIT_ENV[name]) or str(fields[name].default)

        return cls(
            int(value("max_header_bytes")),
            int(value("max_headers")),
            float(value("header_timeout_seconds")),
        )


class _HeadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the head limits of :class:`HeadLimits`."""

    limits: HeadLimits | None = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """One connection's protocol, as uvicorn makes it, reading the limits once per process."""
        super().__init__(config, server_state, app_state, _loop)
        if LimitedHttpToolsProtocol.limits is None:
            LimitedHttpToolsProtocol.limits = HeadLimits.from_environment()
        self._limits = LimitedHttpToolsProtocol.limits
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._head_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head clock: a connection that never sends a request is closed too."""
        super().connection_made(transport)
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the head clock with the connection."""
        self._stop_head_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count the head's bytes before the parser buffers them, then parse."""
        if not self._in_head:
            self._feed(data)
            return
        self._start_head_clock()
        room = self._limits.max_header_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            self._feed(data)
            return
        # The limit falls inside this chunk: parse up to it, and refuse if the head goes on.
        self._head_bytes += room
        self._feed(data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(_HeadRefused(431, self._too_large()))
            return
        self.data_received(data[room:])

    def on_message_begin(self) -> None:
        """A new request: its headers are counted from zero."""
        self._header_count = 0
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        """Refuse the request at the header past ``max_headers``."""
        self._header_count += 1
        if self._header_count > self._limits.max_headers:
            raise _HeadRefused(
                431,
                f"request has more than {self._limits.max_headers} headers (NEWSREC_MAX_HEADERS)",
            )
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: stop its clock and hand the request to the app."""
        self._in_head = False
        self._stop_head_clock()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is in: the next bytes begin the next head."""
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def _feed(self, data: bytes) -> None:
        # uvicorn's data_received, with a refusal raised by a callback answered as itself
        # rather than as the generic 400 uvicorn gives any callback error.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _HeadRefused):
                self._refuse(error.__context__)
                return
            self._bad_request()
        except httptools.HttpParserError:
            self._bad_request()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _bad_request(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def _too_large(self) -> str:
        return (
            f"request line and headers are over {self._limits.max_header_bytes} bytes "
            "(NEWSREC_MAX_HEADER_BYTES)"
        )

    def _start_head_clock(self) -> None:
        if self._head_clock is None:
            self._head_clock = self.loop.call_later(
                self._limits.header_timeout_seconds, self._head_timed_out
            )

    def _stop_head_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_timed_out(self) -> None:
        self._head_clock = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head waits behind an answer being sent: give it a new period.
            self._start_head_clock()
            return
        self._refuse(
            _HeadRefused(
                408,
                f"request head not received within {self._limits.header_timeout_seconds:g} s "
                "(NEWSREC_HEADER_TIMEOUT_SECONDS)",
            )
        )

    def _refuse(self, refusal: _HeadRefused) -> None:
        # Written by hand, like uvicorn's own 400: no request exists to hand to the app.
        self._stop_head_clock()
        # At info, not warning: a flood of hostile heads must not become a flood of warnings.
        self.logger.info("refused a request head: %s", refusal.message)
        body = json.dumps({"detail": refusal.message}).encode("ascii")
        head = [STATUS_LINE[refusal.status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(head))
        self.transport.close()
