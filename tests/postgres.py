"""PostgreSQL for the tests: a given server, or a throwaway cluster started for the session.

``NEWSREC_TEST_PG_URL`` (a superuser URL to database ``postgres``) names a server to use as it
is. Otherwise :class:`ThrowawayCluster` initdb's a cluster in a temporary folder and starts it on
127.0.0.1 with trust auth; it is stopped and removed at the end of the session. Tests get a fresh
database each (:func:`create_database`), dropped afterwards (:func:`drop_database`).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

URL_VARIABLE = "NEWSREC_TEST_PG_URL"
REQUIRE_VARIABLE = "NEWSREC_REQUIRE_POSTGRES"
SUPERUSER = "postgres"
# A cluster thrown away after the run need not survive an OS crash (fsync=off), but commits
# must survive the server's own crash (synchronous_commit stays on): fault tests stop it
# with `immediate` and expect what was acknowledged to be there.
SERVER_OPTIONS = "-c fsync=off -c max_connections=200"


class PostgresMissing(Exception):
    """The PostgreSQL server programs (initdb, pg_ctl) are not installed here."""


def postgres_required() -> bool:
    """True when a run must fail rather than skip without PostgreSQL (CI sets the variable)."""
    return os.environ.get(REQUIRE_VARIABLE, "") == "1"


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: from PATH, else Debian's /usr/lib/postgresql/N/bin.

    Debian installs the server programs outside PATH (only wrappers for clients go in
    /usr/bin), so the versioned folders are searched too, newest first.
    """
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PostgresMissing(
        "initdb/pg_ctl not on PATH nor in /usr/lib/postgresql/*/bin "
        "(Debian: apt-get install postgresql)"
    )


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead, keeping user, host, port and parameters."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def create_database(base_url: str) -> str:
    """Create an empty database with a fresh name on the server of ``base_url``; its URL."""
    name = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(base_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(base_url, name)


def drop_database(base_url: str, url: str) -> None:
    """Drop the database of ``url``, ending any connection still open to it (pools included)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(base_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def wait_for_server(url: str, timeout: float = 30.0) -> None:
    """Return once ``url`` accepts a connection; raise naming the last error after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL at {url} not reachable: {error}") from error
            time.sleep(0.2)


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1, for a test session (or for
    one test that stops and restarts its server).

    As root, initdb refuses to run, so the programs run as the ``postgres`` user
    (``runuser``) and the folder is handed to it. A watchdog process stops the cluster and
    removes the folder if this process dies without calling :meth:`stop` (SIGKILL, a CI
    timeout), so a killed run leaves no server behind.
    """

    def __init__(self, bin_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="newsrec-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        self._as_user: list[str] = []
        self._watchdog: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root needs runuser to start PostgreSQL as postgres")
            self._as_user = [runuser, "-u", SUPERUSER, "--"]
            shutil.chown(self.root, user=SUPERUSER)

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        completed = subprocess.run(
            [*self._as_user, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            server_log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({completed.returncode}): "
                f"{completed.stdout.decode(errors='replace')[-2000:]}{server_log}"
            )

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self._start_watchdog()
        self.start_server()

    def start_server(self) -> None:
        """Start the (initialised) server on its port; return once it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.root} {SERVER_OPTIONS}"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )
        wait_for_server(self.url)

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (``start_server`` brings it back): ``fast`` ends
        open sessions cleanly, ``immediate`` is a crash (recovery runs at the next start)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode)

    def _start_watchdog(self) -> None:
        # A shell in its own session, so a signal to this process group spares it: it polls
        # this process and, once it is gone, stops the server and removes the folder.
        stop = " ".join(
            [*self._as_user, str(self.bin_dir / "pg_ctl"), "stop", "-m", "immediate", "-D"]
        )
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f'{stop} "{self.data}" >/dev/null 2>&1; rm -rf "{self.root}"'
        )
        self._watchdog = subprocess.Popen(
            ["/bin/sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Stop the server and remove the folder, for good.

        If pg_ctl fails, the error propagates and the watchdog is left to stop the server
        when this process exits.
        """
        self.stop_server()
        if self._watchdog is not None:
            self._watchdog.send_signal(signal.SIGTERM)
            self._watchdog.wait()
            self._watchdog = None
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_cluster(attempts: int = 3) -> ThrowawayCluster:
    """A started :class:`ThrowawayCluster` on a free port (retried: the port may be taken
    between choosing and binding it)."""
    bin_dir = find_bin_dir()
    for attempt in range(attempts):
        cluster = ThrowawayCluster(bin_dir, _free_port())
        try:
            cluster.start()
            return cluster
        except RuntimeError:
            cluster.stop()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def start_cluster_for_tests() -> ThrowawayCluster:
    """:func:`start_cluster`, or skip the test naming why PostgreSQL is missing; with
    ``NEWSREC_REQUIRE_POSTGRES=1`` (CI) fail instead of skipping."""
    import pytest

    try:
        return start_cluster()
    except PostgresMissing as missing:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required ({REQUIRE_VARIABLE}=1): {missing}")
        pytest.skip(f"PostgreSQL is not installed: {missing}")


if __name__ == "__main__":
    # Smoke check by hand: python -m tests.postgres
    started = start_cluster()
    print(started.url, file=sys.stderr)
    started.stop()
