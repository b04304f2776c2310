"""Choose the lexical weight, recency and diversity defaults on Reuters-21578 TRAIN; report TEST.

Usage (each home holds one split's stories, ingested with every label field stripped)::

    python scripts/tune_reuters.py --train-home HOME_TRAIN --test-home HOME_TEST --out FILE

Relevance is topical: an article is relevant to a source when they share a Reuters topic
(topics are read from ``../shared/data/reuters21578.jsonl.gz`` by id; the engine never sees
them). Sources are a seeded sample of the split's topic-labelled stories; candidates are every
story of the same split. Figures are nDCG@10 (ranx) and, for *More like this*, topic precision
at 5 among items that carry topics (the end-to-end issue's measure).

Stages, each on TRAIN sources:

1. ``lexical_weight`` by *More like this* nDCG@10;
2. ``w_rec`` (``w_sim`` fixed at its default) and the two recency half-lives by *Related*
   nDCG@10 (``k_more=0``), with ``mmr_lambda = 1`` (Related's own lexical share,
   ``related_lexical_weight``, is the co-read protocol's; see ``evaluation/sweeps.py``);
3. ``mmr_lambda``: *Related* nDCG@10 and intra-list diversity (mean pairwise ``1 - cos``).

The chosen configuration is then measured on TEST sources beside plain cosine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ranx import Qrels, Run, evaluate

from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import Settings

REUTERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reuters21578.jsonl.gz"
K = 10


def _topics() -> dict[str, set[str]]:
    with gzip.open(REUTERS, "rt", encoding="utf-8") as handle:
        return {row["id"]: set(row.get("topics") or []) for row in map(json.loads, handle)}


class Split:
    """One split's home, sources and judgements."""

    def __init__(self, home: Path, topics: Mapping[str, set[str]], sources: int, seed: int):
        engine = Engine(Settings(home=home))
        self.ids = sorted(engine.columns.article_ids.values())
        engine.close()
        self.home = home
        self.topics = topics
        labelled = [i for i in self.ids if topics.get(i)]
        self.sources = sorted(random.Random(seed).sample(labelled, min(sources, len(labelled))))
        by_topic: dict[str, set[str]] = defaultdict(set)
        for article in labelled:
            for topic in topics[article]:
                by_topic[topic].add(article)
        self.qrels = {
            s: {d: 1 for t in topics[s] for d in by_topic[t] if d != s} for s in self.sources
        }

    def ndcg(self, lists: Mapping[str, list[str]]) -> float:
        run = Run(
            {
                s: {d: float(K - r) for r, d in enumerate(ids[:K])} or {"-": 0.0}
                for s, ids in lists.items()
            }
        )
        return float(evaluate(Qrels(self.qrels), run, f"ndcg@{K}"))

    def p5(self, lists: Mapping[str, list[str]]) -> float:
        hits = shown = 0
        for source, ids in lists.items():
            for article in ids[:5]:
                if self.topics.get(article):
                    shown += 1
                    hits += bool(self.topics[article] & self.topics[source])
        return hits / max(shown, 1)


def _lists(
    engine: Engine, sources: Iterable[str], request: ListRequest, which: str
) -> tuple[dict[str, list[str]], float]:
    out: dict[str, list[str]] = {}
    diversity: list[float] = []
    index = engine.state.index
    assert index is not None
    for source in sources:
        lists = engine.lists_for(source, request)
        items = lists.more_like_this if which == "more" else lists.related
        out[source] = [i.article.id for i in items]
        if len(items) > 1:
            vectors = index.reconstruct(np.array([i.article.doc_id for i in items]))
            gram = vectors @ vectors.T
            upper = gram[np.triu_indices(len(items), 1)]
            diversity.append(float(np.mean(1.0 - upper)))
    return out, float(np.mean(diversity)) if diversity else 0.0


def _cosine_lists(split: Split) -> dict[str, list[str]]:
    engine = Engine(Settings(home=split.home))
    index = engine.state.index
    assert index is not None
    out: dict[str, list[str]] = {}
    for source in split.sources:
        doc = engine.catalogue.doc_id_of(source)
        assert doc is not None
        ids, _ = index.search(index.reconstruct(np.array([doc])), K + 1)
        out[source] = [engine.columns.article_ids[int(d)] for d in ids[0] if d != doc][:K]
    engine.close()
    return out


def _log(row: dict[str, Any]) -> None:
    print(json.dumps(row), file=sys.stderr, flush=True)


def main() -> None:
    """Run the three stages on TRAIN and the report on TEST."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-home", type=Path, required=True)
    parser.add_argument("--test-home", type=Path, required=True)
    parser.add_argument("--sources", type=int, default=800, help="Sources sampled per split.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    topics = _topics()
    train = Split(args.train_home, topics, args.sources, args.seed)
    w_sim = Settings().w_sim
    trials: list[dict[str, Any]] = []

    more = ListRequest(k_more=K, k_related=0)
    for lexical in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6):
        engine = Engine(Settings(home=train.home, lexical_weight=lexical))
        lists, _ = _lists(engine, train.sources, more, "more")
        engine.close()
        trials.append(
            {
                "stage": "lexical",
                "lexical_weight": lexical,
                "mlt_ndcg@10": train.ndcg(lists),
                "mlt_p@5": train.p5(lists),
            }
        )
        _log(trials[-1])
    lexical = max((t for t in trials if t["stage"] == "lexical"), key=lambda t: t["mlt_ndcg@10"])[
        "lexical_weight"
    ]

    for before, after in ((3.0, 1.0), (7.0, 3.0), (14.0, 7.0), (30.0, 14.0)):
        engine = Engine(
            Settings(
                home=train.home,
                lexical_weight=lexical,
                mmr_lambda=1.0,
                recency_half_life_before_days=before,
                recency_half_life_after_days=after,
            )
        )
        for w_rec in (0.0, 0.05, 0.1, 0.2, 0.3):
            request = ListRequest(k_more=0, k_related=K, weights=Weights(w_sim, w_rec, 0.0))
            lists, _ = _lists(engine, train.sources, request, "related")
            trials.append(
                {
                    "stage": "recency",
                    "half_life_before_days": before,
                    "half_life_after_days": after,
                    "w_rec": w_rec,
                    "related_ndcg@10": train.ndcg(lists),
                }
            )
            _log(trials[-1])
        engine.close()
    recency = max(
        (t for t in trials if t["stage"] == "recency"), key=lambda t: t["related_ndcg@10"]
    )

    chosen = {
        "lexical_weight": lexical,
        "recency_half_life_before_days": recency["half_life_before_days"],
        "recency_half_life_after_days": recency["half_life_after_days"],
        "w_rec": recency["w_rec"],
    }
    weights = Weights(w_sim, recency["w_rec"], 0.0)
    for lam in (1.0, 0.9, 0.8, 0.7, 0.6):
        engine = Engine(
            Settings(
                home=train.home, **{k: v for k, v in chosen.items() if k != "w_rec"}, mmr_lambda=lam
            )
        )
        lists, ild = _lists(
            engine, train.sources, ListRequest(k_more=0, k_related=K, weights=weights), "related"
        )
        engine.close()
        trials.append(
            {
                "stage": "diversity",
                "mmr_lambda": lam,
                "related_ndcg@10": train.ndcg(lists),
                "related_ild": ild,
            }
        )
        _log(trials[-1])

    test = Split(args.test_home, topics, args.sources, args.seed)
    report: dict[str, Any] = {}
    cosine = _cosine_lists(test)
    report["cosine"] = {"ndcg@10": test.ndcg(cosine), "p@5": test.p5(cosine)}
    for lam in (1.0, 0.9, 0.8, 0.7):
        engine = Engine(
            Settings(
                home=test.home, **{k: v for k, v in chosen.items() if k != "w_rec"}, mmr_lambda=lam
            )
        )
        mlt, mlt_ild = _lists(engine, test.sources, more, "more")
        related, ild = _lists(
            engine, test.sources, ListRequest(k_more=0, k_related=K, weights=weights), "related"
        )
        engine.close()
        report[f"lambda={lam}"] = {
            "more_like_this": {"ndcg@10": test.ndcg(mlt), "p@5": test.p5(mlt), "ild": mlt_ild},
            "related": {"ndcg@10": test.ndcg(related), "p@5": test.p5(related), "ild": ild},
        }
        _log({"test": lam, **report[f"lambda={lam}"]})
    result = {
        "chosen_on_train": chosen,
        "test": report,
        "trials": trials,
        "sources_per_split": args.sources,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "trials"}, indent=2))


if __name__ == "__main__":
    main()
