"""Engine time per list of two checkouts of newsrec over one home, in alternating rounds.

Usage (e.g. this tree against the previous commit, unpacked with ``git archive``)::

    git archive HEAD~1 | tar -x -C /tmp/before
    python scripts/compare_speed.py HOME /tmp/before . [--lists 500] [--rounds 5]

Each round times, in a fresh process per checkout (one after the other, so a busy machine slows
both alike), the same random sources' lists (k = 10 each, after a warm-up); the medians of the
rounds and the median ratio of the second checkout to the first are printed. A checkout whose
engine predates ``Engine.lists_for`` is asked through its ``Engine.related``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

_ROUND = r"""
import random, sys, time
from pathlib import Path
try:
    from recommender.serving.engine import Engine
    from recommender.serving.requests import ListRequest
    from recommender.settings import load_settings
except ImportError:
    from recommender.engine import Engine
    from recommender.requests import ListRequest
    from recommender.settings import load_settings
home, lists = sys.argv[1], int(sys.argv[2])
engine = Engine(load_settings(home=Path(home)))
ask = getattr(engine, "lists_for", None) or engine.related
ids = [r.id for r in engine.catalogue.iter_records()]
sources = random.Random(0).sample(ids, min(lists, len(ids)))
request = ListRequest(k_more=10, k_related=10)
for source in sources[:100]:
    ask(source, request)
start = time.perf_counter()
for source in sources:
    ask(source, request)
print((time.perf_counter() - start) / len(sources) * 1000)
"""


def main() -> None:
    """Time the two checkouts and print one line per checkout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("checkouts", nargs=2, type=Path)
    parser.add_argument("--lists", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[Path, list[float]] = {c: [] for c in args.checkouts}
    for _ in range(args.rounds):
        for checkout in args.checkouts:
            env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
            out = subprocess.run(
                [sys.executable, "-c", _ROUND, str(args.home), str(args.lists)],
                env=env,
                cwd=checkout,
                capture_output=True,
                text=True,
                check=True,
            )
            times[checkout].append(float(out.stdout.strip().splitlines()[-1]))
    first, second = (times[c] for c in args.checkouts)
    ratio = statistics.median(b / a for a, b in zip(first, second, strict=True))
    for checkout, measured in times.items():
        print(
            f"{checkout}: {statistics.median(measured):.3f} ms per list (median of {args.rounds})"
        )
    print(f"ratio second/first: x{ratio:.3f} (median of the rounds' ratios)")


if __name__ == "__main__":
    main()
