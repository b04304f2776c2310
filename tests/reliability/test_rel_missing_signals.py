"""Missing signals: no events, no publish dates, an empty catalogue, a single article.

The lists still come back (or a clear empty answer), and the answer names every signal it had
to do without in ``signals_missing``, in the JSON shape the CLI and the HTTP API share.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.embedding.embedder import Embedder
from recommender.ingestion.ingest import ingest
from recommender.serving.engine import Engine, UnknownArticle
from recommender.serving.requests import ListRequest
from recommender.serving.views import lists_view
from tests.conftest import make_settings
from tests.reliability.support import sample_rows, write_jsonl


def _engine_over(tmp_path: Path, embedder: Embedder, rows: list[dict[str, Any]]) -> Engine:
    settings = make_settings(tmp_path / "home")
    if rows:
        report = ingest([write_jsonl(tmp_path / "rows.jsonl", rows)], settings, lambda: embedder)
        assert report.rejected == 0, report.problems
    return Engine(settings, embedder=embedder)


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    opened: list[Engine] = []
    yield opened
    for engine in opened:
        engine.close()


def _without(*fields: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in fields} for row in sample_rows()[:30]]


def test_without_any_popularity_or_events_lists_come_back_and_say_so(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, _without("popularity"))
    engines.append(engine)
    view = lists_view(engine.lists_for("sample-001", ListRequest(k_more=5, k_related=5)))
    assert len(view["more_like_this"]) == 5
    # Related holds what is related, up to 5, and says why when it holds fewer.
    assert len(view["related"]) == 5 or "related" in view["short"]
    assert view["signals_missing"] == ["popularity"]


def test_without_publish_dates_lists_come_back_and_say_recency_is_missing(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, _without("published_at"))
    engines.append(engine)
    view = lists_view(engine.lists_for("sample-001", ListRequest(k_more=5, k_related=5)))
    assert len(view["more_like_this"]) == 5
    assert len(view["related"]) == 5 or "related" in view["short"]
    assert "recency" in view["signals_missing"]
    assert all(item["published_at"] is None for item in view["related"])


def test_a_draft_over_undated_articles_says_recency_is_missing(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, _without("published_at"))
    engines.append(engine)
    view = lists_view(engine.lists_for_text("Storm floods the harbour", ListRequest()))
    assert view["more_like_this"] and (view["related"] or "related" in view["short"])
    assert "recency" in view["signals_missing"]


def test_an_empty_catalogue_answers_a_draft_with_empty_lists_naming_the_missing_index(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, [])
    engines.append(engine)
    view = lists_view(engine.lists_for_text("Storm floods the harbour", ListRequest()))
    assert (view["more_like_this"], view["related"]) == ([], [])
    assert view["signals_missing"] == ["index"]


def test_an_empty_catalogue_answers_an_id_with_a_clear_unknown_article(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, [])
    engines.append(engine)
    with pytest.raises(UnknownArticle, match="no published article with id 'sample-001'"):
        engine.lists_for("sample-001")


def test_a_single_article_gets_empty_lists_that_say_there_was_nothing_to_compare(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, sample_rows()[:1])
    engines.append(engine)
    view = lists_view(engine.lists_for("sample-001", ListRequest(k_more=5, k_related=5)))
    assert view["article"]["id"] == "sample-001"
    assert (view["more_like_this"], view["related"]) == ([], [])
    assert "candidates" in view["signals_missing"]


def test_two_articles_recommend_each_other(
    tmp_path: Path, embedder: Embedder, engines: list[Engine]
) -> None:
    engine = _engine_over(tmp_path, embedder, sample_rows()[:2])
    engines.append(engine)
    view = lists_view(engine.lists_for("sample-001", ListRequest(k_more=5, k_related=5)))
    ids = [item["id"] for item in view["more_like_this"] + view["related"]]
    assert ids == ["sample-002"]
    assert "candidates" not in view["signals_missing"]
