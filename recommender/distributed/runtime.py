"""Where batch work runs: in this process, on a Ray started here, or on a running cluster.

Ray is an optional extra (``pip install 'newsrec[ray]'``), so it is imported inside these
functions only, never at module level: the core package and the CLI load without it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RayConnectError",
    "RayTarget",
    "RayUnavailable",
    "cluster_cpus",
    "node_cpus",
    "ray_session",
    "ray_target",
]

#: How long a cluster address may take to accept a TCP connection before it counts as
#: unreachable; Ray itself retries for minutes before giving up.
CONNECT_TIMEOUT_S = 5.0

_CLIENT_SCHEME = "ray://"


class RayUnavailable(RuntimeError):
    """``--ray`` was given but Ray is not installed."""

    def __init__(self) -> None:
        super().__init__("--ray needs Ray: pip install 'newsrec[ray]'")


class RayConnectError(RuntimeError):
    """The Ray cluster at an address cannot be reached or joined."""


@dataclass(frozen=True)
class RayTarget:
    """Where to run: ``local`` (start Ray here), ``auto`` (the cluster this machine is part
    of), ``ray://host:port`` (Ray Client) or ``host:port`` (a head node's GCS)."""

    address: str


def ray_target(option: str | None) -> RayTarget | None:
    """The target a ``--ray`` value names; ``None`` (no option) means in-process.

    Raises :class:`ValueError` naming the value when it is empty or not one of ``local``,
    ``auto``, ``ray://HOST:PORT`` or ``HOST:PORT``.
    """
    if option is None:
        return None
    address = option.strip()
    if address in ("local", "auto"):
        return RayTarget(address)
    rest = address.removeprefix(_CLIENT_SCHEME)
    host, sep, port = rest.rpartition(":")
    if not sep or not _valid_host(host) or not _valid_port(port):
        raise ValueError(f"--ray {option!r}: expected local, auto, ray://HOST:PORT or HOST:PORT")
    return RayTarget(address)


def _valid_host(host: str) -> bool:
    host = host.removeprefix("[").removesuffix("]")  # an IPv6 literal in brackets
    return bool(host) and not any(c.isspace() or c in "/@?#" for c in host)


def _valid_port(port: str) -> bool:
    return port.isdigit() and 0 < int(port) < 65536


def _host_port(address: str) -> tuple[str, int] | None:
    if address in ("local", "auto"):
        return None
    host, _, port = address.removeprefix(_CLIENT_SCHEME).rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _passed_on_env() -> dict[str, str]:
    """The variables workers need to behave like this process: offline model loading and
    every ``NEWSREC_*`` setting."""
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    return {
        name: value
        for name, value in os.environ.items()
        if name in names or name.startswith("NEWSREC_")
    }


def _check_reachable(target: RayTarget) -> None:
    # Ray retries an unreachable GCS for minutes, logging as it goes; a user who mistyped
    # the address deserves one line within seconds.
    host_port = _host_port(target.address)
    if host_port is None:
        return
    try:
        with socket.create_connection(host_port, timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayConnectError(
            f"--ray {target.address}: cannot reach a Ray cluster there ({exc.strerror or exc})"
        ) from None


@contextmanager
def ray_session(target: RayTarget) -> Iterator[None]:
    """Run the enclosed block with Ray connected to ``target``.

    Starts Ray (``local``) or joins the cluster, passing on the offline switches and the
    ``NEWSREC_*`` settings to every worker; shuts Ray down on exit only if this call started
    it (a Ray already initialised in this process is used as it is). Raises
    :class:`RayUnavailable` without Ray, :class:`RayConnectError` for an address that
    cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailable() from None
    if ray.is_initialized():
        yield
        return
    _check_reachable(target)
    # Workers load the model from the installed package, as this process does.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # "local" always starts a new Ray here, even if RAY_ADDRESS names another cluster.
    address = target.address
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            runtime_env={"env_vars": _passed_on_env()},
        )
    except (ConnectionError, TimeoutError, RuntimeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayConnectError(f"--ray {target.address}: {message}") from None
    try:
        yield
    finally:
        ray.shutdown()


def cluster_cpus() -> int:
    """The CPUs the connected Ray cluster reports (at least 1), for partition counts."""
    import ray

    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))


def node_cpus() -> list[int]:
    """The CPUs of each live node of the connected Ray cluster (nodes without one left out)."""
    import ray

    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    counts = [int(node.get("Resources", {}).get("CPU", 0)) for node in nodes if node.get("Alive")]
    return [count for count in counts if count >= 1]
