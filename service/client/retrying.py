"""When the client tries a request again, and how long it waits first.

A 503 or 429 means the request was not carried out: the service shed it, or another job held
the writer lock. Such a request is sent again after the ``Retry-After`` the server named, plus
a random fraction of a second, so that the clients it refused together do not all come back
in the same instant. A refusal naming no wait, and a connection that could not be opened, are
retried after an exponential backoff. Nothing else is retried: a request that reached the
service and failed would fail the same way again, and a timed-out write may have happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx

from service.client.errors import ServiceBusy, ServiceUnreachable

__all__ = ["Retry"]


@dataclass(frozen=True)
class Retry:
    """How many times, and for how long at most, a call is tried.

    Attributes:
        attempts: tries in all, the first included (1: never retry).
        timeout: seconds after which no new try starts.
        max_retry_after: the longest ``Retry-After`` the client waits; a refusal asking for
            more is raised at once as :class:`~service.client.errors.ServiceBusy`.
        jitter: at most this many seconds are added to each wait, at random.
        wait_initial, wait_max: the exponential backoff when the server names no wait.
    """

    attempts: int = 5
    timeout: float = 30.0
    max_retry_after: float = 30.0
    jitter: float = 0.5
    wait_initial: float = 0.1
    wait_max: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Retry.attempts must be at least 1, got {self.attempts}")
        for name in ("timeout", "max_retry_after", "jitter", "wait_initial", "wait_max"):
            if getattr(self, name) < 0:
                raise ValueError(f"Retry.{name} must not be negative, got {getattr(self, name)}")

    def caller_options(self) -> dict[str, Any]:
        """The keyword arguments of stamina's retrying callers."""
        return {
            "attempts": self.attempts,
            "timeout": self.timeout,
            "wait_initial": self.wait_initial,
            "wait_max": self.wait_max,
            "wait_jitter": self.jitter,
        }

    def backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: False to raise ``exc``, True to wait the exponential backoff, or the
        seconds to wait."""
        if isinstance(exc, ServiceBusy):
            if exc.retry_after is None:
                return True
            if exc.retry_after > self.max_retry_after:
                return False
            return exc.retry_after + random.uniform(0.0, self.jitter)
        # Only a connection never opened is safe to retry for every method.
        return isinstance(exc, ServiceUnreachable) and isinstance(
            exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout
        )
