"""What co-read counts cost with and without the partner bound, over a home's stored events.

Usage (e.g. the home of a co-read evaluation run)::

    python scripts/coread_cost.py out/synthetic/home [--partners 200]

Folds every stored event into co-read counts twice, with no bound on the partners kept per
article and with ``--partners``, and prints for each the fold time, the pairs kept, and the time
to read the weighted partners of the 200 most read articles (what a list of Related does for
its source on every request).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from index.events import EventStore
from recommender.signals.coreads import CoReads


def main() -> None:
    """Measure and print one line per bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--partners", type=int, default=200)
    args = parser.parse_args()
    with EventStore(args.home / "catalogue.sqlite") as store:
        batches = list(store.since(0))
    reads = Counter(article for batch in batches for article in batch.article_ids)
    busiest = [article for article, _ in reads.most_common(200)]
    for partners in (1 << 62, args.partners):
        start = time.perf_counter()
        coreads = CoReads(window=50, shrink=2.0, partners=partners)
        for batch in batches:
            coreads.add(batch)
        fold = time.perf_counter() - start
        start = time.perf_counter()
        for article in busiest:
            coreads.neighbours(article)
        per_list = (time.perf_counter() - start) / max(len(busiest), 1) * 1000
        label = "no bound" if partners == 1 << 62 else f"{partners} partners"
        print(
            f"{label}: fold {fold:.1f} s, {coreads.pair_count():,} pairs kept, "
            f"partners of a busy article read in {per_list:.2f} ms"
        )


if __name__ == "__main__":
    main()
