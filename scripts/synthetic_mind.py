"""Write a MIND-format data set at MIND-small scale: real headlines, made-up readers.

Usage::

    python scripts/synthetic_mind.py OUT_DIR [--readers 20000] [--articles 51282] [--seed 1]

``news.tsv`` holds the first ``--articles`` headlines of ``../shared/data/mind_headlines.jsonl.gz``
(real MIND headlines with their category; no abstracts). ``behaviors.tsv`` holds readers made up
here: each favours two categories (80% of their reads), reads 5-50 articles, and within a
category picks by a Zipf law over the articles' order, so a few articles are read by many. Each
reader has 1-3 impressions over six days showing 10 random articles, one clicked.

It is a test of scale and of the protocols on data outside ``../shared``, not of quality: its
readers follow popularity by construction, so popularity alone is close to the best list.
The output is generated, never committed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

HEADLINES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mind_headlines.jsonl.gz"
)


def main() -> None:
    """Write ``news.tsv`` and ``behaviors.tsv`` into the folder named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--articles", type=int, default=51_282)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with gzip.open(HEADLINES, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line, _ in zip(handle, range(args.articles), strict=False)]
    categories = sorted({row["category"] for row in rows})
    by_category = {c: [i for i, row in enumerate(rows) if row["category"] == c] for c in categories}
    zipf = {c: [1.0 / (k + 1) ** 0.9 for k in range(len(v))] for c, v in by_category.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "news.tsv").open("w", encoding="utf-8") as news:
        for i, row in enumerate(rows):
            title = row["title"].replace("\t", " ")
            news.write(f"N{i}\t{row['category']}\t{row['category']}sub\t{title}\t\t\t[]\t[]\n")
    start = datetime(2019, 11, 9)
    impression = 0
    with (args.out / "behaviors.tsv").open("w", encoding="utf-8") as behaviors:
        for reader in range(args.readers):
            favourites = rng.sample(categories, 2)
            history: list[int] = []
            for _ in range(rng.randint(5, 50)):
                pick = rng.choice(favourites) if rng.random() < 0.8 else rng.choice(categories)
                choices = by_category[pick]
                history.append(choices[rng.choices(range(len(choices)), zipf[pick])[0]])
            read = " ".join(f"N{i}" for i in dict.fromkeys(history))
            for _ in range(rng.randint(1, 3)):
                impression += 1
                at = start + timedelta(seconds=rng.randint(0, 6 * 86_400))
                shown = rng.sample(range(len(rows)), 10)
                clicked = rng.choice(shown)
                labels = " ".join(f"N{i}-{int(i == clicked)}" for i in shown)
                stamp = at.strftime("%m/%d/%Y %I:%M:%S %p")
                behaviors.write(f"{impression}\tU{reader}\t{stamp}\t{read}\t{labels}\n")


if __name__ == "__main__":
    main()
