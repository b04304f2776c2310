"""Choose Related's gate and weights, and More like this's story weight, on tuning data only.

Usage::

    python scripts/tune_lists.py build --work DIR      # tuning homes, labels stripped (once)
    python scripts/tune_lists.py sweep --work DIR --out FILE
    newsrec evaluate ../shared/data/mind_small_sample --protocol coread --sweep grid \
        --trials 200 --set related_depth=20 --out COREAD   # co-reading, tuning readers
    python scripts/tune_lists.py choose --work DIR --out FILE \
        --coread COREAD/results.json --plot frontier.png

Homes (built by ``build`` through the product's own ingest and event loaders):

- ``reuters-train``: Reuters-21578 TRAIN stories, every label stripped, with a synthetic
  heavy-tailed popularity loaded as events: 200,000 views drawn from a Zipf law (s = 1.1) over
  the stories in a seeded random order, independent of topic, stamped at the last publish time
  (so no story's reads have decayed more than another's), from 20,000 synthetic readers;
- ``mind``: the 2,000 MIND sample articles with category and subcategory stripped (they are the
  labels, and the engine would otherwise read them as section and tag), with the sample's
  ``behaviors.tsv`` loaded by ``newsrec events``' loader.

Every figure is measured on the served path (``Engine.lists_for``) over tuning sources only:
300 seeded Reuters TRAIN sources with topics, and the MIND articles of a seeded half (the other
half is never looked at here). For each configuration it reports, per corpus: Related's and More
like this's topic precision at 5 (Reuters topics, MIND category), their coverage@10 (distinct
articles shown over the catalogue), the largest share of Related lists one article appears in,
and the share of Related lists that hold one of the site's 10 most read. A configuration is
*admissible* when, on both corpora, Related's P@5 is at least 0.9 x More like this's, its
coverage@10 at least half of More like this's, and no article is in more than 10% of its lists;
among those, the behavioural figure (MIND co-reading, ``newsrec evaluate --protocol coread``
on tuning readers) decides. The sweep of More like this's ``story_weight`` reports topic
nDCG@10 and story-level nDCG@10 (relevance: shares a Reuters ``people`` or ``orgs`` label).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ranx import Qrels, Run, evaluate

from index.events import Event
from recommender.embedding.embedder import load_embedder
from recommender.ingestion.events import record_events
from recommender.ingestion.ingest import ingest
from recommender.ranking.scoring import Weights
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import Settings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REUTERS = DATA / "reuters21578.jsonl.gz"
MIND = DATA / "mind_small_sample"
K = 10
_NOISE = 0.002  # co-read nDCG@10 differences below this are not told apart on tuning readers


# --- build --------------------------------------------------------------------------------
def build(work: Path) -> None:
    """Both tuning homes, through the product's own loaders."""
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=work / "reuters-train")
    rows = [r for r in _reuters() if r["split"] == "TRAIN" and (r["title"] or r["body"])]
    stripped = work / "reuters-train.jsonl"
    with stripped.open("w", encoding="utf-8") as out:
        for r in rows:
            kept = {k: r[k] for k in ("id", "title", "body", "published_at") if r.get(k)}
            out.write(json.dumps(kept) + "\n")
    report = ingest([stripped], settings, lambda: load_embedder(settings), progress=True)
    print(f"reuters-train: {report.added} added, {report.rejected} rejected", file=sys.stderr)
    engine = Engine(settings)
    engine.record_events(_zipf_reads([r["id"] for r in rows], _last_time(rows)))
    engine.close()

    settings = Settings(home=work / "mind")
    news = work / "mind-news" / "news.tsv"
    news.parent.mkdir(exist_ok=True)
    with (MIND / "news.tsv").open(encoding="utf-8") as src, news.open("w", encoding="utf-8") as out:
        for line in src:
            cols = line.rstrip("\n").split("\t")
            cols[1] = cols[2] = ""  # category and subcategory: the labels
            out.write("\t".join(cols) + "\n")
    report = ingest([news], settings, lambda: load_embedder(settings), progress=True)
    print(f"mind: {report.added} added, {report.rejected} rejected", file=sys.stderr)
    events = record_events([MIND / "behaviors.tsv"], settings.catalogue_path)
    print(f"mind events: {events.added} stored", file=sys.stderr)


def _reuters() -> list[dict[str, Any]]:
    with gzip.open(REUTERS, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _last_time(rows: list[dict[str, Any]]) -> datetime:
    times = [datetime.fromisoformat(r["published_at"]) for r in rows if r.get("published_at")]
    return max(times).astimezone(UTC)


def _zipf_reads(ids: list[str], at: datetime, reads: int = 200_000, seed: int = 0) -> list[Event]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))  # popularity rank, independent of topic
    weights = 1.0 / np.arange(1, len(ids) + 1) ** 1.1
    drawn = rng.choice(len(ids), size=reads, p=weights / weights.sum())
    readers = rng.integers(0, 20_000, size=reads)
    return [
        Event(ids[order[d]], "view", at + timedelta(seconds=int(k)), user=f"z{u}", key=f"z{k}")
        for k, (d, u) in enumerate(zip(drawn.tolist(), readers.tolist(), strict=True))
    ]


# --- sweep --------------------------------------------------------------------------------
class Corpus:
    """One tuning home with its labels (never given to the engine) and tuning sources."""

    def __init__(self, name: str, home: Path, labels: Mapping[str, set[str]], sources: list[str]):
        self.name, self.home, self.labels, self.sources = name, home, labels, sources

    def p5(self, lists: Mapping[str, list[str]]) -> float:
        hits = shown = 0
        for source, ids in lists.items():
            for article in ids[:5]:
                if self.labels.get(article):
                    shown += 1
                    hits += bool(self.labels[article] & self.labels[source])
        return hits / max(shown, 1)

    def ndcg(self, lists: Mapping[str, list[str]], labels: Mapping[str, set[str]]) -> float:
        by_label: dict[str, set[str]] = defaultdict(set)
        for article, names in labels.items():
            for name in names:
                by_label[name].add(article)
        judged = [s for s in lists if labels.get(s)]
        qrels = {s: {d: 1 for n in labels[s] for d in by_label[n] if d != s} for s in judged}
        qrels = {s: q for s, q in qrels.items() if q}
        run = {
            s: {d: float(K - r) for r, d in enumerate(lists[s][:K])} or {"-": 0.0} for s in qrels
        }
        return float(evaluate(Qrels(qrels), Run(run), f"ndcg@{K}")) if qrels else float("nan")


def _corpora(work: Path, sources: int, seed: int) -> list[Corpus]:
    topics = {r["id"]: set(r.get("topics") or []) for r in _reuters()}
    engine = Engine(Settings(home=work / "reuters-train"))
    ids = sorted(engine.columns.article_ids.values())
    engine.close()
    labelled = [i for i in ids if topics.get(i)]
    reuters = Corpus(
        "reuters",
        work / "reuters-train",
        topics,
        sorted(random.Random(seed).sample(labelled, min(sources, len(labelled)))),
    )
    with (MIND / "news.tsv").open(encoding="utf-8") as handle:
        category = {row[0]: {row[1]} for row in csv.reader(handle, delimiter="\t")}
    articles = sorted(category)
    random.Random(seed).shuffle(articles)
    mind = Corpus("mind", work / "mind", category, sorted(articles[: len(articles) // 2]))
    return [reuters, mind]


def _spread(lists: Mapping[str, list[str]], size: int, top10: set[str]) -> dict[str, float]:
    shown = Counter(d for ids in lists.values() for d in ids[:K])
    n = max(len(lists), 1)
    return {
        "coverage10": len(shown) / max(size, 1),
        "max_share": max(shown.values(), default=0) / n,
        "top10_share": sum(bool(set(ids[:K]) & top10) for ids in lists.values()) / n,
    }


def _measure(corpus: Corpus, engine: Engine, weights: Weights | None) -> dict[str, float]:
    more: dict[str, list[str]] = {}
    related: dict[str, list[str]] = {}
    for source in corpus.sources:
        try:
            lists = engine.lists_for(source, ListRequest(k_more=K, k_related=K, weights=weights))
        except KeyError:
            continue
        more[source] = [i.article.id for i in lists.more_like_this]
        related[source] = [i.article.id for i in lists.related]
    columns = engine.columns
    size = int(columns.live.sum())
    top = engine.state.readership.most_read[:10].tolist()
    top10 = {columns.article_ids[d] for d in top}
    out = {"more_p5": corpus.p5(more), "related_p5": corpus.p5(related)}
    out.update({f"more_{k}": v for k, v in _spread(more, size, top10).items()})
    out.update({f"related_{k}": v for k, v in _spread(related, size, top10).items()})
    out["related_len"] = float(np.mean([len(v) for v in related.values()]))
    return out


def _admissible(row: Mapping[str, float]) -> bool:
    return (
        row["related_p5"] >= 0.9 * row["more_p5"]
        and row["related_coverage10"] >= 0.5 * row["more_coverage10"]
        and row["related_max_share"] <= 0.10
    )


def sweep(work: Path, out: Path, sources: int, seed: int) -> None:
    """Every gate and weight configuration on both corpora; then More like this's story weight."""
    corpora = _corpora(work, sources, seed)
    rows: list[dict[str, Any]] = []
    # Lists of k = 10 make the depth at least 20 (twice k): 10 would measure as 20.
    gates = itertools.product((0.8, 0.9, 0.95), (20, 40))
    weights_grid = [
        {"w_pop": p, "w_coread": c, "w_rec": 0.05}
        for p, c in itertools.product((0.0, 0.1, 0.3), (0.0, 1.0))
    ]
    for quantile, depth in gates:
        for corpus in corpora:
            settings = Settings(
                home=corpus.home, related_floor_quantile=quantile, related_depth=depth
            )
            engine = Engine(settings)
            for given in weights_grid:
                weights = Weights.from_settings(settings).overridden(given)
                row = {"corpus": corpus.name, "quantile": quantile, "depth": depth, **given}
                row.update(_measure(corpus, engine, weights))
                row["admissible"] = _admissible(row)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
            engine.close()
    stories = _story_sweep(corpora[0])
    out.write_text(json.dumps({"related": rows, "more_like_this": stories}, indent=1))


def _story_sweep(corpus: Corpus) -> list[dict[str, Any]]:
    reuters = _reuters()
    entities = {r["id"]: set(r.get("people") or []) | set(r.get("orgs") or []) for r in reuters}
    rows = []
    for story_weight, lexical in itertools.product((0.0, 0.05, 0.1, 0.15, 0.2), (0.3,)):
        engine = Engine(
            Settings(home=corpus.home, story_weight=story_weight, lexical_weight=lexical)
        )
        lists = {
            s: [
                i.article.id
                for i in engine.lists_for(s, ListRequest(k_more=K, k_related=0)).more_like_this
            ]
            for s in corpus.sources
        }
        engine.close()
        row = {
            "story_weight": story_weight,
            "lexical_weight": lexical,
            "topic_ndcg10": corpus.ndcg(lists, corpus.labels),
            "topic_p5": corpus.p5(lists),
            "entity_ndcg10": corpus.ndcg(lists, entities),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def choose(tuned: Path, coread: list[Path], plot: Path) -> dict[str, Any]:
    """Join the constraints (``tuned``: this script's sweep) with the co-read sweep's trials
    (``coread``: the ``results.json`` of ``newsrec evaluate --protocol coread --sweep grid``),
    pick the best co-reading among the admissible configurations, and plot the frontier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = json.loads(tuned.read_text())["related"]
    trials = []
    for path in coread:
        results = json.loads(path.read_text())
        fixed = {n: results["settings"][n] for n in ("related_depth", "w_coread", "w_pop")}
        trials += [{**t, "config": {**fixed, **t["config"]}} for t in results["sweep"]["trials"]]

    def key(config: Mapping[str, Any]) -> tuple[float, ...]:
        return tuple(
            round(float(config[n]), 4)
            for n in ("related_floor_quantile", "related_depth", "w_pop", "w_coread")
        )

    by_config: dict[tuple[float, ...], dict[str, Any]] = {}
    for row in rows:
        config = {"related_floor_quantile": row["quantile"], "related_depth": row["depth"], **row}
        entry = by_config.setdefault(key(config), {"admissible": True})
        entry[row["corpus"]] = row
        entry["admissible"] &= bool(row["admissible"])
    joined = []
    for trial in trials:
        config = trial["config"]
        entry = by_config.get(key(config))
        if entry is not None and "reuters" in entry and "mind" in entry:
            joined.append({**entry, "config": config, "coread": trial["objective"]})
    admissible = [j for j in joined if j["admissible"]]
    best = None
    if admissible:
        # A co-reading gain this small is noise: among the configurations that close to the
        # best, the strictest gate (the most topical Related) is the default.
        top = max(j["coread"] for j in admissible)
        close = [j for j in admissible if j["coread"] >= top - _NOISE]
        best = max(
            close,
            key=lambda j: (j["config"]["related_floor_quantile"], j["mind"]["related_p5"]),
        )
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for group, marker, label in ((True, "o", "admissible"), (False, "x", "breaks a constraint")):
        points = [j for j in joined if j["admissible"] == group]
        axis.scatter(
            [j["mind"]["related_p5"] for j in points],
            [j["coread"] for j in points],
            marker=marker,
            label=label,
        )
    if best is not None:
        axis.scatter(
            [best["mind"]["related_p5"]], [best["coread"]], s=200, marker="*", label="default"
        )
    axis.set_xlabel("relevance: Related P@5, MIND category (tuning articles)")
    axis.set_ylabel("behaviour: co-read nDCG@10 (tuning readers)")
    axis.set_title("Related: relevance against co-reading")
    axis.legend()
    figure.tight_layout()
    figure.savefig(plot, dpi=120)
    summary = {
        "best": best and {"config": best["config"], "coread": best["coread"]},
        "configs": [
            {
                "config": j["config"],
                "coread": j["coread"],
                "admissible": j["admissible"],
                **{
                    f"{c}_{m}": j[c][m]
                    for c in ("reuters", "mind")
                    for m in ("related_p5", "more_p5", "related_coverage10", "related_max_share")
                },
            }
            for j in sorted(joined, key=lambda j: -j["coread"])
        ],
    }
    print(json.dumps(summary, indent=1))
    return summary


def main(argv: Iterable[str] | None = None) -> None:
    """``build`` the tuning homes, ``sweep`` them, or ``choose`` the defaults."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "sweep", "choose"))
    parser.add_argument(
        "--coread", type=Path, nargs="+", help="choose: the co-read sweeps' results.json"
    )
    parser.add_argument("--plot", type=Path, default=Path("frontier.png"))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("tune_lists.json"))
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.command == "build":
        build(args.work)
    elif args.command == "sweep":
        sweep(args.work, args.out, args.sources, args.seed)
    else:
        choose(args.out, args.coread, args.plot)


if __name__ == "__main__":
    main()
