"""A replayed reading log: each judged moment sees only the events before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evaluation.datasets import load_dataset
from evaluation.replay import EngineReplay, ReadsBefore
from evaluation.workspace import prepare_home
from index.events import Event
from recommender.embedding.embedder import Embedder

T0 = datetime(2019, 11, 13, 5, 0, tzinfo=UTC)


def _event(article: str, minutes: int, user: str = "u1") -> Event:
    at = T0 + timedelta(minutes=minutes)
    return Event(article, "click", at, user, f"{article}|{user}|{minutes}")


def test_reads_before_a_moment_never_include_the_moment_or_later() -> None:
    log = ReadsBefore([_event("a", 0), _event("b", 10), _event("c", 20)])
    assert [e.article_id for e in log.advance(T0 + timedelta(minutes=10))] == ["a"]
    assert log.counts() == {"a": 1.0}
    assert [e.article_id for e in log.advance(T0 + timedelta(minutes=30))] == ["b", "c"]


def test_reads_before_count_each_reader_once_per_article() -> None:
    log = ReadsBefore([_event("a", 0), _event("a", 1), _event("a", 2, user="u2")])
    log.advance(T0 + timedelta(hours=1))
    assert log.counts() == {"a": 2.0}


def test_a_replay_cannot_run_back_in_time() -> None:
    log = ReadsBefore([_event("a", 0)])
    log.advance(T0 + timedelta(minutes=5))
    with pytest.raises(ValueError, match="cannot go back"):
        log.advance(T0)


def test_a_replay_refuses_a_log_out_of_time_order() -> None:
    with pytest.raises(ValueError, match="time order"):
        ReadsBefore([_event("a", 5), _event("b", 0)])


def test_the_engine_replay_holds_only_the_events_before_the_moment(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "mind"
    folder.mkdir()
    news = [f"N{i}\tnews\tsub\tHeadline number {i}\tAbstract {i}\t\t[]\t[]" for i in range(1, 4)]
    (folder / "news.tsv").write_text("\n".join(news) + "\n")
    dataset = load_dataset([folder], label_fields=())
    settings = prepare_home(dataset.articles, tmp_path / "home", embedder=embedder)
    events = [_event("N1", 0), _event("N2", 10), _event("N3", 20)]
    replay = EngineReplay(settings, events, tmp_path / "replay", embedder)
    try:
        replay.advance(T0 + timedelta(minutes=10))
        assert replay.engine.events.last_seq() == 1  # N1 only: N2 is at the moment itself
        replay.advance(T0 + timedelta(minutes=21))
        assert replay.engine.events.last_seq() == 3
    finally:
        replay.close()
    assert not (tmp_path / "replay").exists()
