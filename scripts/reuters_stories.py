"""Reuters-21578: one item per story, and the topic precision of More like this.

Usage (a home holding Reuters stories ingested with every label field stripped)::

    python scripts/reuters_stories.py --home HOME [--split TEST] [--limit N]
        [--threshold 0.95 --threshold 0.93 ...]

For each source story of the split that carries topics, the script asks the engine for both
lists (5 + 5) and reports, per story threshold:

- ``mlt_p5``: of the top-5 *More like this* items that carry topics, the share that shares a
  topic with the source (the measure of the end-to-end issue), micro-averaged;
- ``mlt_p5_before``: the same for plain cosine top-5 from the index, excluding only the source,
  i.e. *More like this* as it was before stories were collapsed;
- ``related_p5``: the same for *Related*;
- ``lists_with_two_of_a_story``: lists (More like this, Related, and both together) holding
  two articles of one story under the engine's own rule (cosine >= threshold or matching
  normalised titles); must be 0;
- ``lists_with_a_source_copy``: lists holding a copy of the source; must be 0.

Topics come from ``../shared/data/reuters21578.jsonl.gz`` by id; the engine never sees them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import Settings
from recommender.signals.stories import normalise_title

REUTERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reuters21578.jsonl.gz"


def _labels(split: str) -> tuple[dict[str, set[str]], list[str]]:
    topics: dict[str, set[str]] = {}
    sources: list[str] = []
    with gzip.open(REUTERS, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            topics[row["id"]] = set(row.get("topics") or [])
            if row.get("split") == split and row.get("topics"):
                sources.append(row["id"])
    return topics, sources


def _one_story(a: tuple[np.ndarray, str], b: tuple[np.ndarray, str], threshold: float) -> bool:
    return bool(float(a[0] @ b[0]) >= threshold or (a[1] and a[1] == b[1]))


def _measure(
    home: Path, threshold: float, sources: list[str], topics: dict[str, set[str]]
) -> dict[str, float]:
    engine = Engine(Settings(home=home, story_threshold=threshold))
    index = engine.state.index
    assert index is not None
    hits = {"mlt": [0, 0], "before": [0, 0], "related": [0, 0]}
    bad_lists = {"more_like_this": 0, "related": 0, "both": 0}
    copies = 0
    timings: list[float] = []
    request = ListRequest(k_more=5, k_related=5)
    for source_id in sources:
        started = time.perf_counter()
        lists = engine.lists_for(source_id, request)
        timings.append(time.perf_counter() - started)
        assert lists.source is not None
        source_topics = topics[source_id]
        query = index.reconstruct(np.array([lists.source.doc_id]))[0]
        ids, _ = index.search(query[None, :], 6)
        before = [int(d) for d in ids[0] if d != lists.source.doc_id][:5]
        before_ids = [engine.columns.article_ids[d] for d in before]
        for name, shown in (
            ("mlt", [i.article.id for i in lists.more_like_this]),
            ("before", before_ids),
            ("related", [i.article.id for i in lists.related]),
        ):
            for article_id in shown:
                if topics.get(article_id):
                    hits[name][1] += 1
                    hits[name][0] += bool(topics[article_id] & source_topics)

        def member(item_doc: int, title: str) -> tuple[np.ndarray, str]:
            return index.reconstruct(np.array([item_doc]))[0], normalise_title(title)

        src = member(lists.source.doc_id, lists.source.title)
        for name, items in (
            ("more_like_this", lists.more_like_this),
            ("related", lists.related),
            ("both", lists.more_like_this + lists.related),
        ):
            members = [member(i.article.doc_id, i.article.title) for i in items]
            if any(
                _one_story(members[a], members[b], threshold)
                for a in range(len(members))
                for b in range(a + 1, len(members))
            ):
                bad_lists[name] += 1
            if name == "both" and any(_one_story(src, m, threshold) for m in members):
                copies += 1
    engine.close()
    return {
        "threshold": threshold,
        "sources": len(sources),
        "mlt_p5": hits["mlt"][0] / max(hits["mlt"][1], 1),
        "mlt_p5_before": hits["before"][0] / max(hits["before"][1], 1),
        "related_p5": hits["related"][0] / max(hits["related"][1], 1),
        **{f"lists_with_two_of_a_story_{k}": v for k, v in bad_lists.items()},
        "lists_with_a_source_copy": copies,
        "median_ms_per_request": 1000 * float(np.median(timings)),
    }


def main() -> None:
    """Parse the command line and print one JSON line per threshold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--split", default="TEST")
    parser.add_argument("--limit", type=int, default=0, help="At most this many sources.")
    parser.add_argument("--threshold", type=float, action="append")
    args = parser.parse_args()
    topics, sources = _labels(args.split)
    engine = Engine(Settings(home=args.home))
    present = [s for s in sources if engine.catalogue.doc_id_of(s) is not None]
    engine.close()
    if args.limit:
        present = present[: args.limit]
    for threshold in args.threshold or [Settings().story_threshold]:
        print(json.dumps(_measure(args.home, threshold, present, topics)), flush=True)


if __name__ == "__main__":
    main()
