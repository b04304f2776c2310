"""Issue 20, item 5: would a static-embedding tier (model2vec, distilled from the bundled model)
do for archive backfills? Its quality and speed against the bundled model in fp32.

model2vec is not a newsrec dependency (the evidence did not support shipping the tier: README,
"Embedding precision by CPU"); install it beside the project to rerun this::

    .venv/bin/pip install --target /tmp/m2v 'model2vec[distill]' 'skeletoken>=0.6,<0.7' --no-deps
    PYTHONPATH=/tmp/m2v .venv/bin/python scripts/static_tier.py [--work DIR] [--data ../shared/data]

Steps, all offline (the model is distilled from the installed package's folder):

1. distil a static model (model2vec's defaults: PCA to 256 dimensions, SIF weighting);
2. embed the Reuters-21578 articles that carry a topic or a people/orgs label with both models
   (the text newsrec embeds: :func:`recommender.ingestion.articles.embedding_text`);
3. for every TEST source, rank the rest of its catalogue (topic-labelled articles; people/orgs-
   labelled ones) by cosine and score nDCG@10 with ranx, binary relevance = a shared label;
   the paired difference static - fp32 with its 95% bootstrap interval and permutation test
   (:func:`evaluation.significance.paired_test`, as the evaluation's reports);
4. texts per second on the first 2,000 labelled stories, median of 3 interleaved runs.

This compares the vectors alone (the ``embedding`` baseline of ``newsrec evaluate``), not the
served lists, which is enough to decide: a tier that loses more than 0.005 here would be
judged on the served lists only if it were close.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.bench.machine import lscpu
from evaluation.metrics import judged_queries, ranx_figures
from evaluation.runs import Qrels, Run, ranked
from evaluation.significance import paired_test
from recommender.embedding.model_weights import resolve_model_path
from recommender.ingestion.articles import embedding_text
from recommender.settings import BUNDLED_MODEL

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
_ROOT = Path(__file__).resolve().parents[1]


def _rows(data: Path) -> list[dict[str, Any]]:
    with gzip.open(data / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    kept = []
    for row in rows:
        row["names"] = [f"p:{x}" for x in row.get("people") or []] + [
            f"o:{x}" for x in row.get("orgs") or []
        ]
        if row.get("topics") or row["names"]:
            row["text"] = embedding_text(row.get("title") or "", row.get("body") or "")
            kept.append(row)
    return kept


def _per_source(vectors: np.ndarray, rows: list[dict[str, Any]], field: str) -> dict[str, float]:
    """nDCG@10 per TEST source over the catalogue of articles carrying ``field``."""
    catalogue = [i for i, r in enumerate(rows) if r[field]]
    ids = [rows[i]["id"] for i in catalogue]
    unit = vectors[catalogue] / np.linalg.norm(vectors[catalogue], axis=1, keepdims=True)
    by_label: dict[str, set[str]] = {}
    for i in catalogue:
        for label in rows[i][field]:
            by_label.setdefault(label, set()).add(rows[i]["id"])
    qrels: Qrels = {}
    run: Run = {}
    for at, i in enumerate(catalogue):
        if rows[i]["split"] != "TEST":
            continue
        source = rows[i]["id"]
        relevant = set().union(*(by_label[label] for label in rows[i][field])) - {source}
        if not relevant:
            continue
        scores = unit @ unit[at]
        scores[at] = -np.inf
        top = np.argsort(-scores, kind="stable")[:10]
        qrels[source] = {doc: 1 for doc in relevant}
        run[source] = ranked([ids[j] for j in top.tolist()])
    values = ranx_figures(run, qrels, ["ndcg@10"])["ndcg@10"]
    return dict(zip(judged_queries(qrels), values.tolist(), strict=True))


def main() -> None:
    """Distil, embed, score and time; print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/static-tier"))
    parser.add_argument("--data", type=Path, default=_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    from model2vec import StaticModel  # type: ignore[import-not-found]
    from model2vec.distill import distill  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer

    print("\n".join(lscpu()))
    source = str(resolve_model_path(BUNDLED_MODEL))
    folder = args.work / "static"
    started = time.perf_counter()
    if not folder.exists():
        distill(model_name=source, device="cpu").save_pretrained(str(folder))
        print(f"distilled in {time.perf_counter() - started:.1f} s")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    print(f"static model: {size / 1e6:.1f} MB")
    static = StaticModel.from_pretrained(str(folder))
    plain = SentenceTransformer(source, device="cpu")
    rows = _rows(args.data)
    texts = [r["text"] for r in rows]
    vectors = {}
    for name, encode in (
        ("fp32", lambda t: plain.encode(t, batch_size=32, convert_to_numpy=True)),
        ("static", lambda t: static.encode(t, use_multiprocessing=False)),
    ):
        cache = args.work / f"{name}.npy"
        if not cache.exists():
            np.save(cache, np.asarray(encode(texts), dtype=np.float32))
        vectors[name] = np.load(cache)
    for field, title in (("topics", "topics"), ("names", "people/orgs")):
        plain_scores = _per_source(vectors["fp32"], rows, field)
        static_scores = _per_source(vectors["static"], rows, field)
        order = sorted(plain_scores)
        test = paired_test(
            np.array([static_scores[q] for q in order]),
            np.array([plain_scores[q] for q in order]),
            seed=0,
        )
        print(
            f"{title}: nDCG@10 fp32 {np.mean(list(plain_scores.values())):.4f}, static "
            f"{np.mean(list(static_scores.values())):.4f}, difference "
            f"{test.mean_difference:+.4f} (95% CI {test.ci_low:+.4f} to {test.ci_high:+.4f}, "
            f"p = {test.p_value:.4f}, {test.queries} sources)"
        )
    sample = texts[:2000]
    rates: dict[str, list[float]] = {"fp32": [], "static": []}
    for _ in range(3):
        for name, encode in (
            ("fp32", lambda t: plain.encode(t, batch_size=32)),
            ("static", lambda t: static.encode(t, use_multiprocessing=False)),
        ):
            began = time.perf_counter()
            encode(sample)
            rates[name].append(len(sample) / (time.perf_counter() - began))
    fp32, fast = statistics.median(rates["fp32"]), statistics.median(rates["static"])
    print(
        f"texts/s (2,000 stories, median of 3): fp32 {fp32:.1f}, static {fast:.0f} "
        f"({fast / fp32:.0f}x)"
    )


if __name__ == "__main__":
    main()
