"""``python -m evaluation.bench [--quick | --full] --out DIR``: run the benchmark suite."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from evaluation.bench.config import FULL, QUICK
from evaluation.bench.run import SECTIONS, run_benchmarks

_DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny sizes: proves it runs (CI)")
    mode.add_argument("--full", action="store_true", help="the report's sizes (about an hour)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("bench-output"),
        help="where BENCHMARKS.md and bench-results.json go",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(".bench-work"),
        help="cache of embedded vectors and benchmark homes",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=_DEFAULT_DATA,
        help="folder of the real corpora (default ../shared/data)",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)}; the report "
        "keeps the other sections' tables from its previous run",
    )
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated collection sizes for the index and memory tables "
        "(default: the mode's)",
    )
    args = parser.parse_args(argv)
    config = FULL if args.full else QUICK
    if args.sizes:
        try:
            sizes = tuple(int(x) for x in args.sizes.split(",") if x.strip())
        except ValueError:
            parser.error(f"--sizes {args.sizes!r}: expected comma-separated whole numbers")
        config = replace(config, index_sizes=sizes, memory_sizes=sizes)
    data = args.data if (args.data / "mind_headlines.jsonl.gz").is_file() else None
    if data is None:
        print(f"note: {args.data} has no corpora; using the bundled sample", file=sys.stderr)
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    try:
        run_benchmarks(config.at(out=args.out, work=args.work, data=data), sections=sections)
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
