"""The benchmark suite: newsrec's speed beside its peers, on the same data, in the same run.

``make bench`` runs the quick mode (tiny sizes, proves every part works; CI runs it through a
test), ``make bench-full`` the full one that writes the project's ``BENCHMARKS.md``. Sections:
embedding (fp32 vs the fast path, and the Reuters nDCG@10 they give), vector indexes (newsrec's
flat and HNSW, scikit-learn brute force, qdrant-client local, usearch), engine time per list,
``newsrec precompute``, the HTTP service under wrk beside a constant-JSON app, and memory.
"""

from evaluation.bench.config import FULL, QUICK, BenchConfig
from evaluation.bench.run import run_benchmarks

__all__ = ["FULL", "QUICK", "BenchConfig", "run_benchmarks"]
