"""How long ``newsrec`` commands take from start to exit, and what they import.

Usage::

    python scripts/cli_start.py [--home HOME] [--rounds 5] [--with-model]

Without ``--home`` the bundled sample is ingested into a temporary home. A ``newsrec serve``
is started over the home for the ``--server`` rows. Each command runs ``--rounds`` times, one
after the other, and the median and fastest wall times are printed; then ``-X importtime`` of
``newsrec status`` says how long importing took and whether any of the heavy libraries that
only the model or evaluation need was imported. ``--with-model`` adds ``newsrec like`` without
a server, which loads the model.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from recommender.cli.app import LAZY_LIBRARIES

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "recommender" / "sample" / "articles.jsonl"
DRAFT = "Seaweed battery start-up raises money"


def _newsrec(*args: str) -> list[str]:
    return [sys.executable, "-m", "recommender", *args]


def _time(command: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        _newsrec("serve", "--home", str(home), "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"newsrec serve did not get ready at {url}")


def _imports(home: Path) -> tuple[float, list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "recommender", "status", "--home", str(home)],
        check=True,
        capture_output=True,
        text=True,
    )
    total = 0
    heavy = set()
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if found is None:
            continue
        if len(found.group(2)) == 1:  # a module imported at the top level
            total += int(found.group(1))
        if found.group(3).split(".")[0] in LAZY_LIBRARIES:
            heavy.add(found.group(3).split(".")[0])
    return total / 1e6, sorted(heavy)


def main() -> None:
    """Time the commands and print one line each, then the import summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an ingested home (default: the sample)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--with-model", action="store_true", help="also time a local `like`")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="newsrec-cli-start-") as scratch:
        home = args.home
        if home is None:
            home = Path(scratch) / "home"
            subprocess.run(
                _newsrec("ingest", str(SAMPLE), "--home", str(home)),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        server, url = _serve(home)
        try:
            h = ("--home", str(home))
            commands = {
                "newsrec --version": _newsrec("--version"),
                "newsrec status": _newsrec("status", *h),
                "newsrec overrides": _newsrec("overrides", *h),
                "newsrec related ID": _newsrec("related", "sample-039", *h),
                "newsrec related ID --server": _newsrec("related", "sample-039", "--server", url),
                "newsrec like TEXT --server": _newsrec("like", DRAFT, "--server", url),
            }
            if args.with_model:
                commands["newsrec like TEXT (loads the model)"] = _newsrec("like", DRAFT, *h)
            print(f"{'command':<40} {'median s':>9} {'fastest s':>10}   ({args.rounds} runs)")
            for name, command in commands.items():
                times = _time(command, args.rounds)
                print(f"{name:<40} {statistics.median(times):9.2f} {min(times):10.2f}")
        finally:
            server.terminate()
            server.wait(timeout=30)
        seconds, heavy = _imports(home)
        print(f"newsrec status imports: {seconds:.2f} s; heavy libraries: {heavy or 'none'}")
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
