"""Choose Related's defaults on the co-read protocol over MIND, and report them on other readers.

Usage::

    python scripts/tune_coread.py --mind ../shared/data/mind_small_sample --work /tmp/coread

Protocol (the co-read protocol of the offline evaluation, run on the real engine):

1. The MIND ``news.tsv`` is ingested into a home of its own (``WORK/home``; reused if there).
2. Readers are split in two by a seeded hash of their id. Half A only gives popularity: each
   article a half-A reader read (history) or clicked becomes one click event for that reader,
   at the time of the first impression that shows it, fed to the engine's event store. Half B
   only gives relevance: for each half-B reader, every in-slice article they read or clicked is
   a source, and the other in-slice articles they read or clicked are relevant to it (binary;
   a source's judgements are the union over its readers). Half B is split again by a second
   hash: the *tune* readers choose the configuration, the *report* readers measure it.
3. Methods, each a top-10 list per source, never containing the source:
   ``similarity`` (cosine of the embeddings, from the index), ``popularity`` (half-A reader
   counts over the whole catalogue), ``more_like_this`` and ``related`` (the engine's lists,
   asked for alone: ``k_more=10, k_related=0`` and ``k_more=0, k_related=10``).
4. nDCG@10 with ranx. The grid over Related's settings is scored on the tune readers; the best
   configuration and the baselines are then scored on the report readers. With ``--defaults``
   there is no grid: the engine's default settings are scored on both.

MIND's news has no publish dates, so recency is constant here and ``w_rec`` is chosen on Reuters
instead (``scripts/tune_recency.py``). Results go to ``WORK/coread.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ranx import Qrels, Run, evaluate

from index.events import Event, EventStore
from recommender.engine import Engine
from recommender.mind import Impression, read_behaviors
from recommender.requests import ListRequest
from recommender.scoring import Weights
from recommender.settings import Settings

K = 10
METRIC = f"ndcg@{K}"


def _part(user: str, seed: int, salt: str) -> bool:
    digest = hashlib.sha256(f"{seed}:{salt}:{user}".encode()).digest()
    return digest[0] % 2 == 0


def _readers(impressions: Iterable[Impression], known: set[str]) -> dict[str, dict[str, datetime]]:
    """Each reader's in-slice articles, with the first time each is known to have been read."""
    read: dict[str, dict[str, datetime]] = defaultdict(dict)
    for impression in impressions:
        for news_id in (*impression.history, *impression.clicked):
            if news_id in known:
                first = read[impression.user].get(news_id)
                if first is None or impression.time < first:
                    read[impression.user][news_id] = impression.time
    return dict(read)


def _qrels(readers: Mapping[str, Mapping[str, datetime]]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for articles in readers.values():
        for source in articles:
            for other in articles:
                if other != source:
                    qrels[source][other] = 1
    return dict(qrels)


def _home(mind: Path, work: Path) -> Path:
    base = work / "home"
    if not (base / "catalogue.sqlite").is_file():
        from recommender.embedding import load_embedder
        from recommender.ingest import ingest

        settings = Settings(home=base)
        report = ingest([mind / "news.tsv"], settings, lambda: load_embedder(settings))
        print(f"ingested {report.added} MIND articles in {report.seconds:.0f}s", file=sys.stderr)
    return base


def _run(lists: Mapping[str, list[str]]) -> Run:
    # Scores by rank keep each list's own order whatever its scores' ties.
    return Run({s: {d: float(K - r) for r, d in enumerate(ids[:K])} for s, ids in lists.items()})


def _ndcg(qrels: dict[str, dict[str, int]], lists: Mapping[str, list[str]]) -> float:
    judged = {s: lists.get(s, []) for s in qrels}
    run = _run({s: ids if ids else ["-none-"] for s, ids in judged.items()})
    return float(evaluate(Qrels(qrels), run, METRIC))


def _engine_lists(
    engine: Engine, sources: Iterable[str], request: ListRequest, which: str
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for source in sources:
        lists = engine.related(source, request)
        items = lists.more_like_this if which == "more_like_this" else lists.related
        out[source] = [item.article.id for item in items]
    return out


def main() -> None:
    """Parse the command line, run the grid, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mind", type=Path, required=True, help="Folder with news.tsv, behaviors.tsv"
    )
    parser.add_argument("--work", type=Path, required=True, help="Working folder (homes, results)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="A small grid, to try the script.")
    parser.add_argument(
        "--defaults", action="store_true", help="No grid: measure the current default settings."
    )
    args = parser.parse_args()
    started = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    base = _home(args.mind, args.work)
    home = args.work / f"home-seed{args.seed}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(base, home)

    engine = Engine(Settings(home=home))
    known = set(engine.columns.article_ids.values())
    engine.close()
    impressions = [
        i for i in read_behaviors(args.mind / "behaviors.tsv") if isinstance(i, Impression)
    ]
    readers = _readers(impressions, known)
    half_a = {u: r for u, r in readers.items() if _part(u, args.seed, "popularity")}
    half_b = {u: r for u, r in readers.items() if u not in half_a}
    tune_readers = {u: r for u, r in half_b.items() if _part(u, args.seed, "tune")}
    report_readers = {u: r for u, r in half_b.items() if u not in tune_readers}
    tune_qrels, report_qrels = _qrels(tune_readers), _qrels(report_readers)

    events = [
        Event(article, "click", when, user, f"coread:{user}:{article}")
        for user, articles in half_a.items()
        for article, when in articles.items()
    ]
    with EventStore(Settings(home=home).catalogue_path) as store:
        store.add(events)
    counts: dict[str, int] = defaultdict(int)
    for articles in half_a.values():
        for article in articles:
            counts[article] += 1
    by_count = sorted(known, key=lambda a: (-counts.get(a, 0), a))

    def popularity_lists(sources: Iterable[str]) -> dict[str, list[str]]:
        return {s: [a for a in by_count[: K + 1] if a != s][:K] for s in sources}

    def similarity_lists(engine: Engine, sources: Iterable[str]) -> dict[str, list[str]]:
        index = engine._index
        assert index is not None
        out: dict[str, list[str]] = {}
        for source in sources:
            doc = engine.catalogue.doc_id_of(source)
            assert doc is not None
            ids, _ = index.search(index.reconstruct(np.array([doc])), K + 1)
            out[source] = [engine.columns.article_ids[int(d)] for d in ids[0] if d != doc][:K]
        return out

    w_sim = Settings().w_sim
    trials: list[dict[str, Any]] = []
    chosen: dict[str, Any] = {}  # empty: the engine's defaults
    if not args.defaults:
        grid: dict[str, list[Any]] = {
            "popularity_normalisation": ["log", "percentile"],
            "popularity_half_life_days": [1.0, 3.0, 7.0, 30.0],
            "related_lexical_weight": [0.0, 0.2, 0.4],
            "popular_candidates": [0, 50],
            "w_pop": [0.0, 0.2, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 10.0],
        }
        lambdas = [1.0, 0.9, 0.8, 0.7, 0.6]
        if args.quick:
            grid = {
                "popularity_normalisation": ["log"],
                "popularity_half_life_days": [7.0],
                "related_lexical_weight": [0.4],
                "popular_candidates": [50],
                "w_pop": [0.0, 0.3, 1.0],
            }
            lambdas = [1.0, 0.8]
        engines_grid = itertools.product(
            grid["popularity_normalisation"],
            grid["popularity_half_life_days"],
            grid["related_lexical_weight"],
            grid["popular_candidates"],
        )
        for norm, half_life, lexical, popular in engines_grid:
            settings = Settings(
                home=home,
                popularity_normalisation=norm,
                popularity_half_life_days=half_life,
                related_lexical_weight=lexical,
                popular_candidates=popular,
                mmr_lambda=1.0,
            )
            engine = Engine(settings)
            for w_pop in grid["w_pop"]:
                request = ListRequest(k_more=0, k_related=K, weights=Weights(w_sim, 0.0, w_pop))
                score = _ndcg(tune_qrels, _engine_lists(engine, tune_qrels, request, "related"))
                config = {
                    "popularity_normalisation": norm,
                    "popularity_half_life_days": half_life,
                    "related_lexical_weight": lexical,
                    "popular_candidates": popular,
                    "w_pop": w_pop,
                    "mmr_lambda": 1.0,
                }
                trials.append({**config, METRIC: score})
                print(json.dumps(trials[-1]), file=sys.stderr, flush=True)
            engine.close()
        best = max(trials, key=lambda t: t[METRIC])
        for lam in lambdas[1:]:
            settings = Settings(
                home=home,
                **{k: v for k, v in best.items() if k not in (METRIC, "w_pop")},
            ).model_copy(update={"mmr_lambda": lam})
            engine = Engine(settings)
            request = ListRequest(k_more=0, k_related=K, weights=Weights(w_sim, 0.0, best["w_pop"]))
            score = _ndcg(tune_qrels, _engine_lists(engine, tune_qrels, request, "related"))
            trials.append(
                {**{k: best[k] for k in best if k != METRIC}, "mmr_lambda": lam, METRIC: score}
            )
            print(json.dumps(trials[-1]), file=sys.stderr, flush=True)
            engine.close()
        best = max(trials, key=lambda t: t[METRIC])
        chosen = {k: v for k, v in best.items() if k != METRIC}

    def measure(qrels: dict[str, dict[str, int]], config: Mapping[str, Any]) -> dict[str, float]:
        engine = Engine(Settings(home=home, **{k: v for k, v in config.items() if k != "w_pop"}))
        weights = Weights(w_sim, 0.0, config["w_pop"]) if "w_pop" in config else None
        figures = {
            "similarity": _ndcg(qrels, similarity_lists(engine, qrels)),
            "popularity": _ndcg(qrels, popularity_lists(qrels)),
            "more_like_this": _ndcg(
                qrels,
                _engine_lists(engine, qrels, ListRequest(k_more=K, k_related=0), "more_like_this"),
            ),
            "related": _ndcg(
                qrels,
                _engine_lists(
                    engine, qrels, ListRequest(k_more=0, k_related=K, weights=weights), "related"
                ),
            ),
        }
        engine.close()
        return figures

    report = {
        "seed": args.seed,
        "readers": len(readers),
        "readers_half_a_popularity": len(half_a),
        "readers_tune": len(tune_readers),
        "readers_report": len(report_readers),
        "sources_tune": len(tune_qrels),
        "sources_report": len(report_qrels),
        "popularity_events": len(events),
        "chosen": chosen,
        "tune": measure(tune_qrels, chosen),
        "report": measure(report_qrels, chosen),
        "trials": trials,
        "seconds": round(time.perf_counter() - started, 1),
    }
    rep = report["report"]
    report["related_vs_best_baseline"] = (
        rep["related"] / max(rep["similarity"], rep["popularity"]) - 1
    )
    (args.work / f"coread-seed{args.seed}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "trials"}, indent=2))


if __name__ == "__main__":
    main()
