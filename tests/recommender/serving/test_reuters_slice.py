"""Related lists make topical sense on real Reuters wire stories, with the topics hidden."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from recommender.embedding.embedder import Embedder
from recommender.ingestion.ingest import ingest
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import make_settings

_LABELS = ("topics", "places", "people", "orgs", "exchanges")
_SLICE = 600  # a slice: fewer topic-mates than the full corpus, so a lower bar


@pytest.fixture(scope="module")
def reuters_slice(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, set[str]]]:
    """The first topic-labelled stories, labels stripped into a file; topics kept aside."""
    folder = tmp_path_factory.mktemp("reuters")
    topics: dict[str, set[str]] = {}
    with (
        gzip.open(shared_data / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as source,
        (folder / "slice.jsonl").open("w", encoding="utf-8") as out,
    ):
        for line in source:
            story = json.loads(line)
            if not story["topics"] or not story["body"]:
                continue
            topics[story["id"]] = set(story["topics"])
            out.write(json.dumps({k: v for k, v in story.items() if k not in _LABELS}) + "\n")
            if len(topics) == _SLICE:
                break
    return folder / "slice.jsonl", topics


@pytest.mark.slow
def test_more_like_this_shares_a_topic_with_the_source(
    reuters_slice: tuple[Path, dict[str, set[str]]], embedder: Embedder, tmp_path: Path
) -> None:
    path, topics = reuters_slice
    settings = make_settings(tmp_path / "home")
    report = ingest([path], settings, lambda: embedder)
    assert report.added == _SLICE
    engine = Engine(settings, embedder=embedder)
    shared = total = 0
    for source in list(topics)[:200]:
        lists = engine.lists_for(source, ListRequest(k_more=5, k_related=5))
        assert source not in {i.article.id for i in lists.more_like_this + lists.related}
        for item in lists.more_like_this:
            total += 1
            shared += bool(topics[item.article.id] & topics[source])
    precision = shared / total
    print(f"topic precision@5 of More like this over 200 sources: {precision:.3f}")
    assert precision >= 0.65
