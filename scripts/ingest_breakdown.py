"""Issue 20, item 4: the whole ``newsrec ingest`` against plain sentence-transformers fp32
encoding of the same texts, each as a fresh process, with where the time goes.

Usage::

    python scripts/ingest_breakdown.py [--sizes 1000 20841] [--repeats 3] [--isa full avx2]
        [--work DIR] [--data ../shared/data]

For each instruction set (``full``: this CPU's; ``avx2``: a child that sees an AVX2-only CPU,
:func:`evaluation.bench.machine.avx2_only_env`) and each size (the first N Reuters-21578
stories with a title, as JSON lines, as the benchmark uses them), interleaved ``--repeats``
times (once above 5,000 stories, whose runs take many minutes):

- ``newsrec ingest --home NEW FILE``: the wall time of the process, split by the phases its
  summary line prints (reading, model, embedding, catalogue, index), the rest being process
  start and exit (interpreter, imports, settings);
- plain: ``python -c`` importing sentence-transformers, loading the bundled model in fp32 and
  encoding the same texts (:func:`recommender.ingestion.articles.embedding_text`), with its
  import, load and encode times.

Printed with ``lscpu`` first; medians, and the ratio of the plain process's wall time to
ingest's (above 1: ingest, which also writes the catalogue and publishes an index, is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from evaluation.bench.corpora import reuters_stories
from evaluation.bench.machine import avx2_only_env, lscpu
from recommender.ingestion.articles import embedding_text

_ROOT = Path(__file__).resolve().parents[1]
_PHASE = re.compile(r"(reading|model|embedding|catalogue|index) ([0-9.]+)s")
_TOTAL = re.compile(r" in ([0-9.]+)s \(")

# The plain baseline, as a user without newsrec would write it: one process, the model loaded
# from the installed package, default batch size and window, normalised vectors.
_PLAIN = """
import json, sys, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
from recommender.embedding.model_weights import resolve_model_path
from recommender.settings import BUNDLED_MODEL
t1 = time.perf_counter()
model = SentenceTransformer(resolve_model_path(BUNDLED_MODEL), device="cpu")
t2 = time.perf_counter()
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "encode": t3 - t2}))
"""


def _files(data: Path, size: int, work: Path) -> tuple[Path, Path]:
    stories = [s for s in reuters_stories(data) if s.title][:size]
    if len(stories) < size:
        raise SystemExit(f"only {len(stories)} Reuters stories with a title, asked for {size}")
    articles, texts = work / f"reuters-{size}.jsonl", work / f"reuters-{size}-texts.jsonl"
    with articles.open("w", encoding="utf-8") as out, texts.open("w", encoding="utf-8") as plain:
        for story in stories:
            article = {"id": f"reuters-{story.id}", "title": story.title, "body": story.body}
            if story.published_at is not None:
                article["published_at"] = story.published_at.isoformat()
            out.write(json.dumps(article) + "\n")
            plain.write(json.dumps({"text": embedding_text(story.title, story.body)}) + "\n")
    return articles, texts


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """The wall time and output of a fresh process running ``args``."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed: {done.stderr[-2000:]}")
    return wall, done.stdout


def _ingest(articles: Path, home: Path, env: dict[str, str]) -> dict[str, float]:
    shutil.rmtree(home, ignore_errors=True)
    command = [sys.executable, "-m", "recommender", "ingest", "--home", str(home), str(articles)]
    wall, out = _timed(command, env)
    line = " ".join(out.split())  # the console may wrap the summary line
    total = _TOTAL.search(line)
    if total is None:
        raise SystemExit(f"no time in ingest's summary: {line}")
    phases = {name: float(seconds) for name, seconds in _PHASE.findall(line)}
    shutil.rmtree(home, ignore_errors=True)
    return {"wall": wall, "start and exit": wall - float(total.group(1)), **phases}


def _plain(texts: Path, env: dict[str, str]) -> dict[str, float]:
    wall, out = _timed([sys.executable, "-c", _PLAIN, str(texts)], env)
    inner = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "start and exit": wall - sum(inner.values()), **inner}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for run in runs for k in run}
    return {k: statistics.median(run.get(k, 0.0) for run in runs) for k in sorted(keys)}


def _show(phases: dict[str, float]) -> str:
    order = ["start and exit", "import", "reading", "model", "load", "embedding", "encode"]
    order += ["catalogue", "index"]
    return ", ".join(f"{k} {phases[k]:.1f}s" for k in order if k in phases)


def main(argv: list[str] | None = None) -> int:
    """Measure and print, for each instruction set and size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 20_841])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--isa", nargs="+", choices=["full", "avx2"], default=["full", "avx2"])
    parser.add_argument("--work", type=Path, default=Path(".bench-work/ingest-breakdown"))
    parser.add_argument("--data", type=Path, default=_ROOT.parent / "shared" / "data")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    for line in lscpu():
        print(line)
    print(flush=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    base.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for isa in args.isa:
        env = {**base, **(avx2_only_env(work) if isa == "avx2" else {})}
        for size in args.sizes:
            articles, texts = _files(args.data, size, work)
            repeats = args.repeats if size <= 5_000 else 1
            ingests: list[dict[str, float]] = []
            plains: list[dict[str, float]] = []
            for repeat in range(repeats):
                order = ("ingest", "plain") if repeat % 2 == 0 else ("plain", "ingest")
                for kind in order:
                    if kind == "ingest":
                        ingests.append(_ingest(articles, work / "home", env))
                    else:
                        plains.append(_plain(texts, env))
            ingest, plain = _median(ingests), _median(plains)
            print(
                f"{isa}, {size:,} stories, median of {repeats}: newsrec ingest "
                f"{ingest['wall']:.1f}s ({_show(ingest)}); plain sentence-transformers fp32 "
                f"{plain['wall']:.1f}s ({_show(plain)}); plain/ingest "
                f"{plain['wall'] / ingest['wall']:.2f}, "
                f"encode alone {plain['encode'] / ingest['embedding']:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
