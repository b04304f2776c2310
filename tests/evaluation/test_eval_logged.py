"""The logged protocol and the feedback log's export: served lists, replayed offline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evaluation.online.log_export import export_log
from evaluation.protocols.logged import logged_cases, served_run
from index.events import Event, EventStore
from index.feedback import Feedback, FeedbackStore
from recommender.cli import app
from recommender.ingestion.mind import Impression, read_behaviors
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import make_settings

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
SOURCES = ("sample-039", "sample-001", "sample-050")


def _impression(
    nonce: str,
    source: str,
    shown: Sequence[str],
    at: datetime,
    *,
    visible: tuple[int, ...] | None = None,
    variant: str = "default",
    experiment: str | None = "exp",
) -> Feedback:
    return Feedback(
        kind="impression",
        key=f"imp:{nonce}:related",
        at=at,
        recommendation=nonce,
        experiment=experiment,
        variant=variant,
        list_name="related",
        source=source,
        reader=f"reader{nonce}",
        index_version="v1",
        shown=tuple(shown),
        teams=(),
        visible=visible,
    )


def _click(
    nonce: str, position: int, article_id: str, at: datetime, *, variant: str = "default"
) -> Feedback:
    return Feedback(
        kind="click",
        key=f"click:{nonce}:related:{position}",
        at=at,
        recommendation=nonce,
        experiment="exp",
        variant=variant,
        list_name="related",
        source="",
        reader=f"reader{nonce}",
        index_version="v1",
        shown=(),
        teams=(),
        position=position,
        article_id=article_id,
    )


def _read(path: Path) -> list[Impression]:
    rows = list(read_behaviors(path))
    assert all(isinstance(r, Impression) for r in rows), rows
    return [r for r in rows if isinstance(r, Impression)]


# --- export ---------------------------------------------------------------------------------


def test_export_writes_one_mind_row_per_impression_with_its_clicks(tmp_path: Path) -> None:
    rows = [
        _impression("n2", "s2", ["c", "d"], T0 + timedelta(hours=1)),
        _impression("n1", "s1", ["a", "b", "c"], T0),
        _click("n1", 2, "b", T0 + timedelta(seconds=30)),
        _click("n2", 1, "c", T0 + timedelta(hours=1, seconds=5)),
    ]
    report = export_log(rows, tmp_path / "behaviors.tsv", experiment=None, variant=None)
    first, second = _read(tmp_path / "behaviors.tsv")
    assert (report.impressions, report.clicks, report.clicks_without_impression) == (2, 2, 0)
    assert first == Impression(
        "imp:n1:related", "readern1", T0, ("s1",), clicked=("b",), skipped=("a", "c")
    )
    assert (second.impression_id, second.clicked, second.skipped) == (
        "imp:n2:related",
        ("c",),
        ("d",),
    )
    assert second.time == T0 + timedelta(hours=1)


def test_export_keeps_the_visible_positions_and_the_served_order(tmp_path: Path) -> None:
    rows = [_impression("n1", "s1", ["a", "b", "c", "d"], T0, visible=(1, 3))]
    export_log(rows, tmp_path / "behaviors.tsv", experiment=None, variant=None)
    line = (tmp_path / "behaviors.tsv").read_text().rstrip("\n").split("\t")
    assert line[4] == "a-0 c-0"


def test_a_click_without_its_impression_is_counted_not_invented(tmp_path: Path) -> None:
    rows = [_impression("n1", "s1", ["a", "b"], T0), _click("n9", 1, "x", T0)]
    report = export_log(rows, tmp_path / "behaviors.tsv", experiment=None, variant=None)
    assert (report.impressions, report.clicks, report.clicks_without_impression) == (1, 0, 1)
    assert [i.impression_id for i in _read(tmp_path / "behaviors.tsv")] == ["imp:n1:related"]


def test_export_keeps_only_the_variant_asked_for(tmp_path: Path) -> None:
    rows = [
        _impression("n1", "s1", ["a", "b"], T0, variant="A"),
        _impression("n2", "s1", ["a", "b"], T0, variant="B"),
        _click("n2", 1, "a", T0, variant="B"),
    ]
    report = export_log(rows, tmp_path / "behaviors.tsv", experiment="exp", variant="B")
    (row,) = _read(tmp_path / "behaviors.tsv")
    assert (row.impression_id, row.clicked, report.skipped) == ("imp:n2:related", ("a",), 1)


def test_an_anonymous_reader_is_written_as_a_dash(tmp_path: Path) -> None:
    row = _impression("n1", "s1", ["a"], T0)
    anonymous = Feedback(**{**{f: getattr(row, f) for f in row.__slots__}, "reader": None})
    export_log([anonymous], tmp_path / "behaviors.tsv", experiment=None, variant=None)
    assert _read(tmp_path / "behaviors.tsv")[0].user == "-"


def test_export_log_command_writes_the_homes_feedback(sample_home: Path, tmp_path: Path) -> None:
    with FeedbackStore(make_settings(sample_home).catalogue_path) as store:
        store.add(
            [
                _impression("n1", "sample-039", ["sample-040", "sample-048"], T0),
                _click("n1", 2, "sample-048", T0 + timedelta(seconds=9)),
                _click("n7", 1, "sample-001", T0),
            ]
        )
    out = tmp_path / "logs" / "behaviors.tsv"
    result = CliRunner().invoke(
        app, ["experiments", "export-log", "--out", str(out), "--home", str(sample_home)]
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert "wrote 1 impressions with 1 clicks" in result.output
    assert "1 clicks without a logged impression" in result.output
    (row,) = _read(out)
    assert (row.history, row.clicked, row.skipped) == (
        ("sample-039",),
        ("sample-048",),
        ("sample-040",),
    )


# --- the protocol ---------------------------------------------------------------------------


def test_only_impressions_with_a_source_a_click_and_a_skip_are_scored() -> None:
    def row(
        iid: str, history: tuple[str, ...], clicked: tuple[str, ...], skipped: tuple[str, ...]
    ) -> Impression:
        return Impression(iid, "r", T0, history, clicked, skipped)

    impressions = [
        row("ok", ("s",), ("b",), ("a", "c")),
        row("ok", ("s",), ("b",), ("a",)),  # the same id again
        row("draft", (), ("b",), ("a",)),
        row("unread", ("s",), (), ("a", "b")),
        row("all-read", ("s",), ("a", "b"), ()),
        row("gone", ("s",), ("x",), ("a",)),
    ]
    orders = {"ok": ("a", "b", "c")}
    cases, dropped, unknown = logged_cases(impressions, orders, {"s", "a", "b", "c"})
    assert [c.impression_id for c in cases] == ["ok"]
    assert dict(zip(cases[0].candidates, cases[0].labels, strict=True)) == {"a": 0, "b": 1, "c": 0}
    assert dropped == {
        "duplicate_impression_id": 1,
        "no_source_article": 1,
        "no_click": 1,
        "no_skip": 1,
        "article_not_published": 1,
    }
    assert unknown == "x"
    assert served_run(cases, orders)["ok"][0][0] == "a"


def _orders(home: Path, at: datetime, **overrides: float) -> dict[str, list[str]]:
    """Each source's candidates in the order the served scoring gives them at ``at``."""
    engine = Engine(make_settings(home, **overrides), clock=at.timestamp)
    try:
        orders = {}
        for source in SOURCES:
            lists = engine.lists_for(source, ListRequest(k_more=6, k_related=6))
            shown = list(
                dict.fromkeys(i.article.id for i in (*lists.related, *lists.more_like_this))
            )
            request = ListRequest(k_more=0, k_related=len(shown), k_popular=0)
            orders[source] = [
                i.article.id for i in engine.score_candidates([source], shown, request)
            ]
        return orders
    finally:
        engine.close()


def _log(tmp_path: Path, served: dict[str, list[str]], clicked: dict[str, str]) -> Path:
    """A behaviors.tsv exported from feedback rows: one impression per source, one click."""
    rows: list[Feedback] = []
    for n, source in enumerate(SOURCES):
        at = T0 + timedelta(minutes=10 * n)
        rows.append(_impression(f"n{n}", source, served[source], at))
        position = served[source].index(clicked[source]) + 1
        rows.append(_click(f"n{n}", position, clicked[source], at + timedelta(seconds=20)))
    path = tmp_path / "behaviors.tsv"
    export_log(rows, path, experiment=None, variant=None)
    return path


def _evaluate(log: Path, home: Path, out: Path, *settings: str) -> dict[str, Any]:
    args = ["evaluate", str(log), "--protocol", "logged", "--home", str(home), "--out", str(out)]
    for pair in settings:
        args += ["--set", pair]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    assert "caveat: logged clicks are biased" in result.output
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


def _figures(results: dict[str, Any], method: str) -> dict[str, float]:
    figures: dict[str, float] = results["methods"][method]["figures"]
    return figures


@pytest.mark.slow  # several evaluations, and ranx's first compilation
def test_a_configuration_ranking_the_clicks_first_scores_higher(
    sample_home: Path, tmp_path: Path
) -> None:
    by_content = _orders(sample_home, T0, w_rec=0.0, w_pop=0.0)
    by_recency = _orders(sample_home, T0, w_rec=5.0, w_pop=0.0)
    clicked = {s: by_content[s][0] for s in SOURCES}
    assert any(by_recency[s][0] != clicked[s] for s in SOURCES)  # the test can tell them apart
    served = {s: list(reversed(by_content[s])) for s in SOURCES}  # the click served last
    log = _log(tmp_path, served, clicked)

    good = _evaluate(log, sample_home, tmp_path / "good", "w_rec=0", "w_pop=0")
    other = _evaluate(log, sample_home, tmp_path / "other", "w_rec=5", "w_pop=0")

    assert _figures(good, "candidate")["auc"] == 1.0
    assert _figures(good, "candidate")["mrr"] == 1.0
    assert _figures(good, "logged")["auc"] == 0.0
    expected_mrr = sum(1 / (by_recency[s].index(clicked[s]) + 1) for s in SOURCES) / 3
    assert _figures(other, "candidate")["mrr"] == pytest.approx(expected_mrr)
    assert _figures(other, "candidate")["auc"] < _figures(good, "candidate")["auc"]
    assert set(_figures(good, "candidate")) >= {"auc", "mrr", "ndcg@5", "ndcg@10"}
    test = good["significance"]["tests"]["candidate"]
    assert test["mean_difference"] == 1.0 and test["queries"] == 3
    assert set(good["methods"]) == {"logged", "current", "candidate"}
    assert good["protocol_notes"]["candidate_vs_current"]["queries"] == 3


@pytest.mark.slow  # several evaluations, and ranx's first compilation
def test_reads_after_an_impression_do_not_count_and_reads_before_do(
    sample_home: Path, tmp_path: Path
) -> None:
    by_content = _orders(sample_home, T0, w_rec=0.0, w_pop=0.0)
    clicked = {s: by_content[s][0] for s in SOURCES}
    log = _log(tmp_path, by_content, clicked)
    pop = ("w_rec=0", "w_pop=5")
    quiet = _evaluate(log, sample_home, tmp_path / "quiet", *pop)
    # The runner-up of every list is read by many readers (the sample's articles come with
    # thousands of reads): a day after the impressions ...
    runners_up = [by_content[s][1] for s in SOURCES]

    def read(at: datetime, tag: str) -> None:
        engine = Engine(make_settings(sample_home))
        engine.record_events(
            [Event(a, "view", at, f"{tag}{a}{i}") for a in runners_up for i in range(5000)]
        )
        engine.close()

    read(T0 + timedelta(days=1), "late")
    late = _evaluate(log, sample_home, tmp_path / "late", *pop)
    assert _figures(late, "candidate") == _figures(quiet, "candidate")
    # ... and an hour before them, where they count: a runner-up passes the click.
    read(T0 - timedelta(hours=1), "early")
    early = _evaluate(log, sample_home, tmp_path / "early", *pop)
    assert _figures(early, "candidate")["mrr"] < _figures(quiet, "candidate")["mrr"]


def test_a_replay_copy_drops_the_events_from_its_start(tmp_path: Path) -> None:
    with EventStore(tmp_path / "catalogue.sqlite") as store:
        store.add([Event("a", "view", T0 + timedelta(minutes=m), "u") for m in (-1, 0, 1)])
        assert store.remove_from(T0) == 2
        assert [b.at_ts.tolist() for b in store.since(0)] == [[T0.timestamp() - 60]]


def _fails(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_missing_log_exits_2_with_one_line(sample_home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.tsv"
    line = _fails(
        [
            "evaluate",
            str(missing),
            "--protocol",
            "logged",
            "--home",
            str(sample_home),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert f"{missing}: no such file" in line


def test_a_log_of_another_catalogue_exits_2_naming_the_article(
    sample_home: Path, tmp_path: Path
) -> None:
    log = tmp_path / "behaviors.tsv"
    export_log(
        [_impression("n1", "sample-039", ["N123", "N456"], T0), _click("n1", 1, "N123", T0)],
        log,
        experiment=None,
        variant=None,
    )
    line = _fails(
        [
            "evaluate",
            str(log),
            "--protocol",
            "logged",
            "--home",
            str(sample_home),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert "article 'N123' of the log is not published" in line


def test_no_home_exits_2(tmp_path: Path) -> None:
    log = tmp_path / "behaviors.tsv"
    export_log([_impression("n1", "a", ["b"], T0)], log, experiment=None, variant=None)
    line = _fails(
        [
            "evaluate",
            str(log),
            "--protocol",
            "logged",
            "--home",
            str(tmp_path / "empty"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert "no newsrec home here" in line
