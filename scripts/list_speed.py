"""Engine time per list of two or more homes over the same articles, timed interleaved.

Usage (e.g. the homes of two ``newsrec evaluate`` runs that differ only in the model)::

    python scripts/list_speed.py out/labels/home=all-MiniLM-L6-v2 \\
        out/labels-mpnet/home=all-mpnet-base-v2 [--lists 1000] [--rounds 5]

Each round asks every home, one after the other, for both lists (k = 10) of the same random
sources, so a busy machine slows them alike; the medians of the rounds and their ratio to the
first home are printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import load_settings


def main() -> None:
    """Time the homes named on the command line and print one line per home."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homes", nargs="+", help="HOME=MODEL, the model the home was built with")
    parser.add_argument("--lists", type=int, default=1000, help="sources per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engines: dict[str, Engine] = {}
    for spec in args.homes:
        home, _, model = spec.partition("=")
        engines[spec] = Engine(load_settings(home=Path(home), model=model))
    first = next(iter(engines.values()))
    ids = [record.id for record in first.catalogue.iter_records()]
    sources = random.Random(0).sample(ids, min(args.lists, len(ids)))
    request = ListRequest(k_more=10, k_related=10)
    for engine in engines.values():  # warm caches and lazily built state
        for source in sources[:200]:
            engine.lists_for(source, request)
    per_list: dict[str, list[float]] = {spec: [] for spec in engines}
    for _ in range(args.rounds):
        for spec, engine in engines.items():
            start = time.perf_counter()
            for source in sources:
                engine.lists_for(source, request)
            per_list[spec].append((time.perf_counter() - start) / len(sources) * 1000)
    base = per_list[args.homes[0]]
    for spec, times in per_list.items():
        ratio = statistics.median(t / b for t, b in zip(times, base, strict=True))
        print(f"{spec}: {statistics.median(times):.3f} ms per list (median), x{ratio:.2f}")


if __name__ == "__main__":
    main()
