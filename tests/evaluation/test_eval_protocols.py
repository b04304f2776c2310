"""Protocols on tiny hand-made datasets: who counts popularity, what is relevant, no leakage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evaluation.candidates import CandidateRule
from evaluation.datasets import DatasetError, load_dataset
from evaluation.protocols.coread import coread_task
from evaluation.protocols.impressions import impressions_task
from evaluation.protocols.labels import labels_task
from evaluation.splits import in_first_part
from evaluation.workspace import prepare_home
from index.events import EventStore
from recommender.embedding.embedder import Embedder


def _write_reuters_like(path: Path) -> Path:
    rows = [
        ("r1", "Cocoa crop up", ["cocoa"], "TEST", "1987-03-02"),
        ("r2", "Cocoa prices", ["cocoa"], "TRAIN", "1987-03-01"),
        ("r3", "Oil and cocoa", ["crude", "cocoa"], "TRAIN", "1987-03-03"),
        ("r4", "Crude output", ["crude"], "TEST", "1987-03-04"),
        ("r5", "Unlabelled note", [], "TEST", "1987-03-05"),
    ]
    with path.open("w") as out:
        for rid, title, topics, split, day in rows:
            out.write(
                json.dumps(
                    {
                        "id": rid,
                        "title": title,
                        "body": f"{title} body text",
                        "topics": topics,
                        "places": ["usa"],
                        "split": split,
                        "published_at": f"{day}T10:00:00Z",
                    }
                )
                + "\n"
            )
    return path


def test_label_fields_are_stripped_from_what_is_ingested(tmp_path: Path) -> None:
    dataset = load_dataset([_write_reuters_like(tmp_path / "r.jsonl")])
    fields = dataset.articles[0].fields
    assert not {"topics", "places", "split"} & set(fields)
    assert dataset.articles[0].labels == frozenset({"cocoa"})


def test_labels_task_reports_test_sources_and_judges_shared_labels(tmp_path: Path) -> None:
    task = labels_task(load_dataset([_write_reuters_like(tmp_path / "r.jsonl")]))
    assert task.qrels == {"r1": {"r2": 1, "r3": 1}, "r4": {"r3": 1}}
    assert [a.id for a in task.articles] == ["r1", "r2", "r3", "r4"]  # labelled only


def test_labels_task_tunes_on_train_sources_only(tmp_path: Path) -> None:
    task = labels_task(load_dataset([_write_reuters_like(tmp_path / "r.jsonl")]), tune=True)
    assert set(task.tune_qrels) == {"r2", "r3"}
    assert not set(task.tune_qrels) & set(task.qrels)


def test_before_source_rule_drops_later_articles_from_the_judgements(tmp_path: Path) -> None:
    dataset = load_dataset([_write_reuters_like(tmp_path / "r.jsonl")])
    task = labels_task(dataset, rule=CandidateRule(before_source=True))
    assert task.qrels == {"r1": {"r2": 1}, "r4": {"r3": 1}}


def test_a_split_without_sources_is_refused(tmp_path: Path) -> None:
    dataset = load_dataset([_write_reuters_like(tmp_path / "r.jsonl")])
    with pytest.raises(DatasetError, match="split"):
        labels_task(dataset, split="VALIDATION")


def _write_mind(folder: Path, users: dict[str, tuple[list[str], list[str], list[str]]]) -> Path:
    folder.mkdir()
    news = [f"N{i}\tnews\tsub\tHeadline number {i}\tAbstract {i}\t\t[]\t[]" for i in range(1, 7)]
    (folder / "news.tsv").write_text("\n".join(news) + "\n")
    lines = []
    for number, (user, (history, clicked, skipped)) in enumerate(users.items(), start=1):
        shown = " ".join([f"{c}-1" for c in clicked] + [f"{s}-0" for s in skipped])
        lines.append(f"{number}\t{user}\t11/13/2019 5:53:12 AM\t{' '.join(history)}\t{shown}")
    (folder / "behaviors.tsv").write_text("\n".join(lines) + "\n")
    return folder


def _users_in_halves(seed: int) -> tuple[str, str]:
    """A half-A reader and a half-B reader whose reads are reported (not a tuning reader)."""
    names = [f"U{i}" for i in range(100)]
    first = next(u for u in names if in_first_part(u, seed, "reader-half"))
    second = next(
        u
        for u in names
        if not in_first_part(u, seed, "reader-half") and not in_first_part(u, seed, "reader-tune")
    )
    return first, second


def test_coread_gives_the_engine_half_a_rows_and_judges_on_half_b(tmp_path: Path) -> None:
    reader_a, reader_b = _users_in_halves(seed=0)
    folder = _write_mind(
        tmp_path / "mind",
        {
            reader_a: (["N1", "N2"], ["N3"], ["N6"]),
            reader_b: (["N4"], ["N5"], ["N6"]),
        },
    )
    task = coread_task(load_dataset([folder], label_fields=()), seed=0)
    assert task.qrels == {"N4": {"N5": 1}, "N5": {"N4": 1}}
    assert task.events is not None and task.events.name == "behaviors.tsv"
    assert [line.split("\t")[1] for line in task.events.lines] == [reader_a]


def test_coread_reads_reach_the_evaluation_home_as_newsrec_events_loads_them(
    tmp_path: Path, embedder: Embedder
) -> None:
    reader_a, reader_b = _users_in_halves(seed=0)
    folder = _write_mind(
        tmp_path / "mind",
        {reader_a: (["N1", "N2"], ["N3"], ["N6"]), reader_b: (["N4"], ["N5"], ["N6"])},
    )
    task = coread_task(load_dataset([folder], label_fields=()), seed=0)
    settings = prepare_home(task.articles, tmp_path / "home", embedder=embedder, events=task.events)
    with EventStore(settings.catalogue_path) as store:
        (batch,) = list(store.since(0))
    # History reads are views just before the reader's first impression; the click is at it.
    assert list(zip(batch.users, batch.article_ids, batch.is_click.tolist(), strict=True)) == [
        (reader_a, "N1", False),
        (reader_a, "N2", False),
        (reader_a, "N3", True),
    ]
    impression = datetime(2019, 11, 13, 5, 53, 12, tzinfo=UTC).timestamp()
    assert batch.at_ts.tolist() == [impression - 1, impression - 1, impression]


def test_coread_never_reports_the_tuning_readers(tmp_path: Path) -> None:
    names = [f"U{i}" for i in range(100)]
    tuner = next(
        u
        for u in names
        if not in_first_part(u, 0, "reader-half") and in_first_part(u, 0, "reader-tune")
    )
    folder = _write_mind(tmp_path / "mind", {tuner: (["N1"], ["N2"], [])})
    task = coread_task(load_dataset([folder], label_fields=()), seed=0)
    assert (task.qrels, task.tune_qrels) == ({}, {"N1": {"N2": 1}, "N2": {"N1": 1}})


def test_coread_limits_sample_the_reported_and_tuning_sources(tmp_path: Path) -> None:
    names = [f"U{i}" for i in range(200)]
    reported = [u for u in names if not in_first_part(u, 0, "reader-half")]
    folder = _write_mind(
        tmp_path / "mind",
        {u: ([f"N{1 + i % 5}"], [f"N{2 + i % 5}"], []) for i, u in enumerate(reported)},
    )
    dataset = load_dataset([folder], label_fields=())
    whole = coread_task(dataset, seed=0)
    assert len(whole.qrels) == 6 and len(whole.tune_qrels) == 6
    task = coread_task(dataset, seed=0, limit_sources=2, tune_limit=3)
    assert len(task.qrels) == 2 and len(task.tune_qrels) == 3
    assert all(whole.qrels[source] == judged for source, judged in task.qrels.items())
    assert task.qrels == coread_task(dataset, seed=0, limit_sources=2).qrels  # seeded


def test_coread_needs_behaviors(tmp_path: Path) -> None:
    folder = _write_mind(tmp_path / "mind", {})
    (folder / "behaviors.tsv").unlink()
    with pytest.raises(DatasetError, match="behaviors"):
        coread_task(load_dataset([folder], label_fields=()), seed=0)


def test_impressions_keep_only_catalogue_candidates(tmp_path: Path) -> None:
    folder = _write_mind(
        tmp_path / "mind",
        {"U1": (["N1", "N99"], ["N4", "N98"], ["N5"]), "U2": ([], ["N2"], ["N3"])},
    )
    task = impressions_task(load_dataset([folder], label_fields=()), seed=0)
    (case,) = task.cases  # U2 has no history in the catalogue
    assert (case.user, case.history, case.candidates, case.labels) == (
        "U1",
        ("N1",),
        ("N4", "N5"),
        (1, 0),
    )
    assert task.notes["impressions_dropped"] == {"no_history_in_catalogue": 1}


def test_impressions_are_judged_in_time_order_with_the_loaders_events(tmp_path: Path) -> None:
    folder = _write_mind(tmp_path / "mind", {"U1": (["N1"], ["N2"], ["N3"])})
    (folder / "behaviors.tsv").write_text(
        "1\tU1\t11/14/2019 9:00:00 AM\tN1\tN2-1 N3-0\n2\tU2\t11/13/2019 5:00:00 AM\tN4\tN5-1 N6-0\n"
    )
    task = impressions_task(load_dataset([folder], label_fields=()), seed=0)
    assert [case.impression_id for case in task.cases] == ["2", "1"]
    assert [(e.article_id, e.kind) for e in task.events] == [
        ("N4", "view"),
        ("N5", "click"),
        ("N1", "view"),
        ("N2", "click"),
    ]


def test_impressions_limit_samples_the_scored_impressions(tmp_path: Path) -> None:
    names = [f"U{i}" for i in range(100)]
    readers = names[:4]
    folder = _write_mind(tmp_path / "mind", {u: (["N1"], ["N2"], ["N3"]) for u in readers})
    dataset = load_dataset([folder], label_fields=())
    assert len(impressions_task(dataset, seed=0).cases) == 4
    limited = impressions_task(dataset, seed=0, limit=2).cases
    assert len(limited) == 2 and len({case.user for case in limited}) == 2


def test_impression_candidates_are_not_ordered_by_their_labels(tmp_path: Path) -> None:
    # Equal scores keep candidate order; clicked-first order would hand every tie to a click.
    names = [f"U{i}" for i in range(200)]
    folder = _write_mind(
        tmp_path / "mind", {u: (["N1"], ["N2"], ["N3", "N4", "N5"]) for u in names[:40]}
    )
    cases = impressions_task(load_dataset([folder], label_fields=()), seed=0).cases
    clicked_first = sum(case.labels[0] == 1 for case in cases)
    assert len(cases) == 40 and 0 < clicked_first < 20
