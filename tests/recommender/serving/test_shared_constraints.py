"""The editors' constraints on Related, over real data: the MIND sample with its reads loaded.

The sample's 2,000 articles are ingested with category and subcategory stripped (they are the
labels, and the engine would read them as section and tag), through the product's own ingest
and event loaders, and every article is a source. Related must stay topical (P@5 by category
at least 0.9 of More like this's), spread like a topical list (coverage@10 at least half of
More like this's), and never repeat one article across the site (in at most 10% of lists).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from recommender.embedding.embedder import load_embedder
from recommender.ingestion.events import record_events
from recommender.ingestion.ingest import ingest
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import make_settings

K = 10


def _p5(lists: dict[str, list[str]], labels: dict[str, str]) -> float:
    shown = [(source, item) for source, items in lists.items() for item in items[:5]]
    return sum(labels[item] == labels[source] for source, item in shown) / len(shown)


@pytest.mark.slow
def test_related_meets_the_editors_constraints_on_the_mind_sample(
    shared_data: Path, tmp_path: Path
) -> None:
    mind = shared_data / "mind_small_sample"
    labels: dict[str, str] = {}
    stripped = tmp_path / "news" / "news.tsv"
    stripped.parent.mkdir()
    with (mind / "news.tsv").open(encoding="utf-8") as src, stripped.open("w") as out:
        for row in csv.reader(src, delimiter="\t", quoting=csv.QUOTE_NONE):
            labels[row[0]] = row[1]
            row[1] = row[2] = ""
            out.write("\t".join(row) + "\n")
    settings = make_settings(tmp_path / "home")
    report = ingest([stripped], settings, lambda: load_embedder(settings))
    assert report.rejected == 0, report.problems
    record_events([mind / "behaviors.tsv"], settings.catalogue_path)
    engine = Engine(settings)
    more: dict[str, list[str]] = {}
    related: dict[str, list[str]] = {}
    for source in sorted(labels):
        lists = engine.lists_for(source, ListRequest(k_more=K, k_related=K))
        more[source] = [i.article.id for i in lists.more_like_this]
        related[source] = [i.article.id for i in lists.related]
    engine.close()
    shown_more = Counter(a for items in more.values() for a in items)
    shown_related = Counter(a for items in related.values() for a in items)
    print(
        f"\nMIND sample: P@5 More like this {_p5(more, labels):.3f}, Related "
        f"{_p5(related, labels):.3f}; coverage@10 {len(shown_more) / len(labels):.3f}, "
        f"{len(shown_related) / len(labels):.3f}; most shown in Related: "
        f"{shown_related.most_common(1)}"
    )
    assert _p5(related, labels) >= 0.9 * _p5(more, labels)
    assert len(shown_related) >= 0.5 * len(shown_more)
    assert max(shown_related.values()) <= 0.1 * len(labels)
