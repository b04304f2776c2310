"""A real two-node Ray cluster on this machine (``ray start``, one CPU a node): embed, the
neighbour table and precompute run across both nodes through the CLI, and give what the
in-process path gives.

Each node runs in a working directory of its own and the commands are given a relative home,
so a job that relied on this process's state, or on a path only the driver can resolve, fails.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, free_port
from tests.distributed.support import assert_same_table, lines_of, published_table, without_ids
from tests.reliability.support import cli_env, invoke_newsrec, newsrec_cmd

pytestmark = pytest.mark.slow

#: How long a node may take to start on a busy machine.
START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Cluster:
    address: str
    env: dict[str, str]  # what a process joining the cluster runs with


def _start_node(
    args: list[str], log: Path, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    ray = Path(sys.executable).with_name("ray")
    with log.open("wb") as out:
        node = subprocess.Popen(
            [str(ray), "start", "--block", "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
             "--disable-usage-stats", *args],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT_S
    while b"block forever" not in log.read_bytes():
        if node.poll() is not None or time.monotonic() > deadline:
            _stop(node)
            pytest.fail(f"a Ray node did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return node


def _stop(node: subprocess.Popen[bytes]) -> None:
    # `ray stop` would stop every Ray on the machine; SIGTERM to `ray start --block` stops the
    # processes of its own node only.
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=60)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A head node and one more, one CPU each, stopped when the test ends."""
    # Short: Ray's sockets live under it, and a socket's path may hold 107 characters at most.
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    env = cli_env(
        # A cluster started by `ray start` checks a token (Ray 2.60's default). Ray looks for
        # it in ~/.ray/auth_token, which a fresh machine lacks, so the test gives its own to
        # both nodes and to every process that joins them, as a site gives the same token to
        # its machines.
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",  # a node stops at once when told to
    )
    port = free_port()
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        (temp / "head").mkdir()
        (temp / "second").mkdir()
        head = ["--head", "--port", str(port), "--temp-dir", str(temp), "--include-dashboard=false"]
        nodes.append(_start_node(head, temp / "head.log", temp / "head", env))
        nodes.append(
            _start_node(
                ["--address", f"127.0.0.1:{port}"], temp / "second.log", temp / "second", env
            )
        )
        yield Cluster(f"127.0.0.1:{port}", env)
    finally:
        for node in reversed(nodes):
            _stop(node)
        shutil.rmtree(temp, ignore_errors=True)


def newsrec(cwd: Path, env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        newsrec_cmd(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"newsrec {args}: {result.stderr[-3000:]}"
    return result


def test_embed_reindex_and_precompute_across_two_nodes_give_the_in_process_results(
    cluster: Cluster, tmp_path: Path
) -> None:
    on_ray = ("--ray", cluster.address)
    work, env = tmp_path / "work", cluster.env
    work.mkdir()
    home = Path("home")  # relative to `work`, where the commands run, unlike the nodes

    embedded = newsrec(work, env, "embed", SAMPLE, "--out", "shards", *on_ray)
    assert "80" in embedded.stdout + embedded.stderr
    # In this process: loading the shards publishes an index with a table made here.
    loaded = invoke_newsrec("ingest", "--vectors", work / "shards", "--home", work / home)
    assert loaded.returncode == 0, loaded.stderr
    here = published_table(work / home)

    there = newsrec(work, env, "reindex", "--home", home, *on_ray)
    assert "neighbour table on Ray: 2 parts on 2 nodes" in there.stderr
    assert_same_table(published_table(work / home), here)

    args = ("precompute", "--home", work / home, "--out", work / "here.jsonl", "--workers", "1")
    assert invoke_newsrec(*args).returncode == 0
    there = newsrec(work, env, "precompute", "--home", home, "--out", "ray.jsonl", *on_ray)
    assert "precompute on Ray: 2 workers on 2 nodes" in there.stderr
    lines = lines_of(work / "ray.jsonl")
    assert len(lines) == 80
    assert without_ids(lines) == without_ids(lines_of(work / "here.jsonl"))
