"""Time ``Engine.lists_for`` on one home under two settings, alternately, in one process.

Usage::

    python scripts/list_latency.py HOME --set story_weight=0 --against story_weight=0.05

Both engines answer the same random sources (seeded), one after the other for each source, so a
noisy machine slows both alike; it prints the medians, the 90th percentiles and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.cli import parse_settings
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import Settings


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, time both engines and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--set", dest="base", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--against", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--sources", type=int, default=400)
    args = parser.parse_args(argv)
    engines = {
        "base": Engine(Settings(home=args.home, **parse_settings(args.base))),
        "against": Engine(Settings(home=args.home, **parse_settings(args.against))),
    }
    ids = sorted(engines["base"].columns.article_ids.values())
    sources = np.random.default_rng(0).choice(ids, min(args.sources, len(ids)), replace=False)
    request = ListRequest(k_more=5, k_related=5)
    for engine in engines.values():  # warm-up: caches, first-use costs
        for source in sources[:50]:
            engine.lists_for(str(source), request)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for source in sources:
        for name, engine in engines.items():
            start = time.perf_counter()
            engine.lists_for(str(source), request)
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        print(
            f"{name}: median {statistics.median(values) * 1e3:.2f} ms, "
            f"p90 {float(np.quantile(values, 0.9)) * 1e3:.2f} ms"
        )
    ratio = statistics.median(times["against"]) / statistics.median(times["base"])
    print(f"ratio of medians (against / base): {ratio:.2f}")


if __name__ == "__main__":
    main()
