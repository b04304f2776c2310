"""Resident memory of a serving engine over one home: after loading, and after lists.

Usage::

    python scripts/serving_memory.py HOME [--lists 200] [--set hnsw_storage=float32]

Prints VmRSS, RssAnon (the process's own memory) and RssFile (mapped files) from
``/proc/self/status`` after ``Engine(settings)`` and again after lists for that many random
published articles (seeded), with the median time per list. Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import load_settings

_FIELDS = ("VmRSS", "RssAnon", "RssFile")


def memory() -> dict[str, int]:
    """This process's VmRSS, RssAnon and RssFile in MiB."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in _FIELDS:
            out[name] = int(value.split()[0]) // 1024
    return out


def _line(when: str, figures: dict[str, int]) -> str:
    return f"{when:<28}" + "  ".join(f"{name} {figures[name]:>6,} MiB" for name in _FIELDS)


def main(argv: Sequence[str] | None = None) -> None:
    """Open the engine, ask for the lists and print the memory figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--lists", type=int, default=200, help="random articles to list")
    parser.add_argument("--set", action="append", default=[], help="a setting, KEY=VALUE")
    args = parser.parse_args(argv)
    # Parsed here, not by evaluation's parser: importing evaluation (scikit-learn, ranx ...)
    # would add its own memory to the figures.
    overrides = dict(pair.split("=", 1) for pair in args.set)
    settings = load_settings(home=args.home, **overrides)
    engine = Engine(settings)
    gc.collect()
    print(_line("after load", memory()))
    live = np.flatnonzero(engine.columns.live).tolist()
    rng = random.Random(0)
    times: list[float] = []
    for _ in range(args.lists):
        article = engine.columns.cards[rng.choice(live)].id
        started = time.perf_counter()
        engine.lists_for(article, ListRequest(k_more=5, k_related=5))
        times.append(time.perf_counter() - started)
    gc.collect()
    median = statistics.median(times) * 1000 if times else 0.0
    print(_line(f"after {args.lists} lists", memory()) + f"  ({median:.2f} ms a list)")
    engine.close()


if __name__ == "__main__":
    main()
