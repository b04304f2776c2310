"""Do two checkouts of newsrec make the same lists? Every k-th article of one home, both lists.

Usage (this tree against the previous commit, unpacked with ``git archive``)::

    git archive 6d4d942 | tar -x -C /tmp/before
    python scripts/compare_lists.py HOME /tmp/before . [--every 47] [--set KEY=VALUE ...]

Each checkout runs in its own process with the same settings (``--set``), asked for More like
this and Related (k = 5) of the same sources; the script prints how many lists are identical,
and the first difference. The checkout given second gets, besides, the settings that turn
Related's relevance gate off (``related_floor_quantile=0``, a depth of 1,000, one shared reader),
so that a refactoring can be checked against the code before the gate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_LISTS = r"""
import itertools, json, sys
from pathlib import Path
try:
    from recommender.serving.engine import Engine
    from recommender.serving.requests import ListRequest
    from recommender.settings import load_settings
except ImportError:
    from recommender.engine import Engine
    from recommender.requests import ListRequest
    from recommender.settings import load_settings
home, every, overrides = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
engine = Engine(load_settings(home=Path(home), **overrides))
ask = getattr(engine, "lists_for", None) or engine.related
out = {}
for record in itertools.islice(engine.catalogue.iter_records(), 0, None, every):
    lists = ask(record.id, ListRequest(k_more=5, k_related=5))
    out[record.id] = [
        [i.article.id for i in lists.more_like_this], [i.article.id for i in lists.related]
    ]
print(json.dumps(out))
"""

_GATE_OFF = {"related_floor_quantile": 0.0, "related_depth": 1000, "coread_min_readers": 1}


def _value(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


def main() -> None:
    """Compare the two checkouts' lists and print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("checkouts", nargs=2, type=Path)
    parser.add_argument("--every", type=int, default=1, help="every k-th article is a source")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    settings = {k: _value(v) for k, _, v in (pair.partition("=") for pair in args.set)}
    found = []
    for n, checkout in enumerate(args.checkouts):
        overrides = {**settings, **(_GATE_OFF if n == 1 else {})}
        out = subprocess.run(
            [sys.executable, "-c", _LISTS, str(args.home), str(args.every), json.dumps(overrides)],
            env={**os.environ, "PYTHONPATH": str(checkout.resolve())},
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first, second = found
    same = [k for k in first if first[k] == second.get(k)]
    print(f"{len(same)} of {len(first)} sources: both lists identical")
    for k in first:
        if first[k] != second.get(k):
            print(f"first difference, {k}: {first[k]} against {second.get(k)}")
            break


if __name__ == "__main__":
    main()
