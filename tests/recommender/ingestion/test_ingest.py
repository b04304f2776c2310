"""Specification of ingest: upsert by id, no re-embedding of unchanged text, bad rows skipped."""

from __future__ import annotations

import json
from pathlib import Path

from index import Catalogue, IndexStore
from index.events import EventStore
from recommender.embedding.embedder import Embedder
from recommender.ingestion.ingest import ingest
from tests.conftest import SAMPLE, make_settings


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts = 0
        self.model_name, self.dim, self.backend = inner.model_name, inner.dim, inner.backend

    def encode(self, texts: list[str], *, progress: bool = False) -> object:
        self.texts += len(texts)
        return self.inner.encode(texts)


def test_bad_rows_are_reported_and_good_rows_land(tmp_path: Path, embedder: Embedder) -> None:
    path = _write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"id": "a", "title": "Council approves bridge repair budget"},
            {"title": "no id"},
            {"id": "b", "title": "Storm floods the riverside", "published_at": "not a date"},
            {"id": "c", "title": "Rovers reach the cup semi-final", "published_at": "2026-09-01"},
        ],
    )
    (tmp_path / "broken.jsonl").write_text('{"id": "d", "title": "ok"}\n{"id": \n')
    settings = make_settings(tmp_path / "home")
    report = ingest([path, tmp_path / "broken.jsonl"], settings, lambda: embedder)
    assert (report.added, report.rejected) == (3, 3)
    assert [(Path(p.source).name, p.line) for p in report.problems] == [
        ("mixed.jsonl", 2),
        ("mixed.jsonl", 3),
        ("broken.jsonl", 2),
    ]
    assert "published_at" in report.problems[1].reason
    with Catalogue(settings.catalogue_path) as catalogue:
        assert catalogue.count() == 3


def test_unchanged_articles_are_not_re_embedded(tmp_path: Path, embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    settings = make_settings(tmp_path / "home")
    rows = [{"id": f"x{i}", "title": f"Story number {i} about the harbour"} for i in range(5)]
    path = _write_jsonl(tmp_path / "a.jsonl", rows)
    ingest([path], settings, lambda: counting)  # type: ignore[arg-type, return-value]
    rows[0]["title"] = "A changed headline about the harbour"
    rows[1]["popularity"] = 40  # metadata only: no new vector needed
    _write_jsonl(path, rows)
    report = ingest([path], settings, lambda: counting)  # type: ignore[arg-type, return-value]
    assert counting.texts == 6
    assert (report.added, report.updated, report.unchanged) == (0, 2, 3)


def test_reingest_of_same_file_publishes_no_new_index(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "home")
    first = ingest([SAMPLE], settings, lambda: embedder)
    second = ingest([SAMPLE], settings, lambda: embedder)
    assert second.unchanged == first.added == 80
    assert second.index_version == first.index_version
    assert len(IndexStore(settings.index_root).versions()) == 1


def test_nothing_readable_is_flagged(tmp_path: Path, embedder: Embedder) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl", [{"title": "no id"}])
    report = ingest(
        [path, tmp_path / "missing.csv"], make_settings(tmp_path / "h"), lambda: embedder
    )
    assert report.nothing_read and report.rejected == 1
    assert "missing.csv: no such file" in report.unreadable[0]


def test_column_map_renames_fields(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,headline,desk\n1,Harbour crane collapses,business\n", encoding="utf-8")
    settings = make_settings(tmp_path / "home")
    ingest([path], settings, lambda: embedder, mapping={"headline": "title", "desk": "section"})
    with Catalogue(settings.catalogue_path) as catalogue:
        record = catalogue.get("1")
    assert record is not None and (record.title, record.section) == (
        "Harbour crane collapses",
        "business",
    )


def test_mind_news_and_behaviors_give_click_counts(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "mind"
    folder.mkdir()
    (folder / "news.tsv").write_text(
        "N1\tsports\tsoccer\tCup final tonight\tLead one.\t\t[]\t[]\n"
        "N2\tnews\tpolitics\tCouncil vote\tLead two.\t\t[]\t[]\n",
        encoding="utf-8",
    )
    (folder / "behaviors.tsv").write_text(
        "1\tU1\t11/13/2019 5:53:12 AM\tN1\tN1-1 N2-0 N9-1\n"
        "2\tU2\t11/13/2019 6:53:12 AM\t\tN1-1 N2-1\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "home")
    report = ingest([folder], settings, lambda: embedder)
    assert (report.added, report.clicks_applied, report.unknown_click_ids) == (2, 4, 1)
    # Clicks and U1's history read are stored as timed events (they feed popularity); the
    # unknown N9 is skipped.
    with EventStore(settings.catalogue_path) as events:
        read = [i for batch in events.since(0) for i in batch.article_ids]
    assert sorted(read) == ["N1", "N1", "N1", "N2"]
