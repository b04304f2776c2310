"""Online experiment statistics (evaluation.online) on feedback rows built by hand."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scipy.stats import binomtest

from evaluation.online import Design, online_results, write_online_report
from evaluation.online.ab import rate
from evaluation.online.power import power_line, sign_test_power_line
from index.feedback import Feedback

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXPERIMENT = "weights-test"


def impression(
    nonce: str,
    variant: str,
    reader: str | None,
    *,
    length: int = 5,
    list_name: str = "related",
    teams: Sequence[str] = (),
    visible: tuple[int, ...] | None = None,
    experiment: str | None = EXPERIMENT,
) -> Feedback:
    return Feedback(
        kind="impression",
        key=f"imp:{nonce}:{list_name}",
        at=AT,
        recommendation=nonce,
        experiment=experiment,
        variant=variant,
        list_name=list_name,
        source="src-1",
        reader=reader,
        index_version="v1",
        shown=tuple(f"a{i}" for i in range(1, length + 1)),
        teams=tuple(teams),
        visible=visible,
    )


def click(of: Feedback, position: int) -> Feedback:
    return Feedback(
        kind="click",
        key=f"click:{of.recommendation}:{of.list_name}:{position}",
        at=AT,
        recommendation=of.recommendation,
        experiment=of.experiment,
        variant=of.variant,
        list_name=of.list_name,
        source=of.source,
        reader=of.reader,
        index_version=of.index_version,
        shown=(),
        teams=of.teams,
        position=position,
        article_id=of.shown[position - 1],
    )


def ab_rows(ctrs: dict[str, float], lists_each: int, seed: int = 0) -> list[Feedback]:
    """``lists_each`` lists per variant, one reader each, clicked at position 1 with the given
    probability."""
    rng = random.Random(seed)
    rows: list[Feedback] = []
    for variant, ctr in ctrs.items():
        for i in range(lists_each):
            shown = impression(f"{variant}-{i}", variant, f"r-{variant}-{i}")
            rows.append(shown)
            if rng.random() < ctr:
                rows.append(click(shown, 1))
    return rows


def exactly(clicked: int, shown: int, variant: str, *, start: int = 0) -> list[Feedback]:
    """``shown`` lists of ``variant`` of which the first ``clicked`` got a click at 1."""
    rows: list[Feedback] = []
    for i in range(start, start + shown):
        served = impression(f"{variant}-{i}", variant, f"r-{variant}-{i}")
        rows.append(served)
        if i - start < clicked:
            rows.append(click(served, 1))
    return rows


def verdict(rows: Iterable[Feedback], **options: object) -> dict[str, object]:
    results = online_results(rows, **options)  # type: ignore[arg-type]
    found: dict[str, object] = results["experiments"][EXPERIMENT]["verdict"]
    return found


# --- rates and the power line -----------------------------------------------------------------


def test_a_ctr_interval_is_wilson_s() -> None:
    found = rate(10, 100, alpha=0.05)
    assert found.value == pytest.approx(0.1)
    # Wilson 95% for 10/100, by hand: (0.0552, 0.1744).
    assert found.low == pytest.approx(0.0552, abs=1e-4)
    assert found.high == pytest.approx(0.1744, abs=1e-4)


def test_a_rate_of_nothing_shown_is_unknown() -> None:
    assert rate(0, 0, alpha=0.05).value is None


def test_the_power_line_sizes_a_five_percent_lift_on_a_ten_percent_ctr() -> None:
    line = power_line(0.10, 1_000, min_lift=0.05, alpha=0.05, power=0.8)
    # Cohen's h for 0.105 against 0.10 is 0.01654; n = ((1.95996 + 0.84162) / h)^2 = 57,756.
    assert line.needed == pytest.approx(57_756, abs=5)
    assert line.enough is False
    assert line.warning is not None and "57," in line.warning


def test_the_power_line_is_quiet_when_the_sample_is_large_enough() -> None:
    line = power_line(0.10, 100_000, min_lift=0.05, alpha=0.05, power=0.8)
    assert line.enough is True and line.warning is None


def test_the_power_line_cannot_size_a_control_without_clicks() -> None:
    line = power_line(0.0, 500, min_lift=0.05, alpha=0.05, power=0.8)
    assert line.needed is None and line.enough is None
    assert line.warning is not None and "no clicks" in line.warning


def test_the_sign_test_power_line_sizes_a_five_percent_lift_over_half() -> None:
    line = sign_test_power_line(1_000, min_lift=0.05, alpha=0.05, power=0.8)
    # h for 0.525 against 0.5 is 0.05002; n = ((1.95996 + 0.84162) / h)^2 = 3,137.
    assert line.target == pytest.approx(0.525)
    assert line.needed == pytest.approx(3_137, abs=2)
    assert line.warning is not None and "too few decisive lists" in line.warning


# --- A/B --------------------------------------------------------------------------------------


def test_a_strong_effect_names_the_better_variant() -> None:
    found = verdict(ab_rows({"A": 0.10, "B": 0.20}, 2_000))
    assert found["better"] == "B" and found["method"] == "ab"
    assert isinstance(found["p_value"], float) and found["p_value"] < 1e-6
    assert found["confidence"] == pytest.approx(0.95)


def test_a_worse_variant_makes_the_control_the_better_one() -> None:
    assert verdict(ab_rows({"A": 0.20, "B": 0.10}, 2_000))["better"] == "A"


def test_no_effect_names_no_winner() -> None:
    rows = exactly(100, 1_000, "A") + exactly(100, 1_000, "B")
    found = verdict(rows)
    assert found["better"] is None
    assert found["p_value"] == pytest.approx(1.0)


def test_the_figures_of_a_variant_are_counted_from_its_lists() -> None:
    served = impression("n1", "B", "r1")
    rows = [
        *exactly(10, 100, "A"),
        *exactly(20, 100, "B", start=1),
        served,
        click(served, 1),
        click(served, 3),
        click(served, 3),  # the same click sent twice is one
    ]
    results = online_results(rows)
    b = results["experiments"][EXPERIMENT]["ab"]["variants"]["B"]
    assert (b["impressions"], b["clicks"], b["clicked_impressions"]) == (101, 22, 21)
    assert b["readers"] == 101
    assert b["ctr"]["value"] == pytest.approx(21 / 101)
    assert b["lift"] == pytest.approx((21 / 101) / 0.10 - 1)
    assert b["lift_low"] < b["lift"] < b["lift_high"]


def test_the_control_is_the_first_variant_of_the_design_or_the_one_asked() -> None:
    rows = exactly(10, 100, "A") + exactly(20, 100, "B")
    design = {EXPERIMENT: Design(EXPERIMENT, "ab", ("B", "A"))}
    by_file = online_results(rows, designs=design)["experiments"][EXPERIMENT]
    assert by_file["control"] == "B" and by_file["design_from"] == "experiments file"
    assert by_file["ab"]["variants"]["A"]["lift"] == pytest.approx(-0.5)
    asked = online_results(rows, control="A")["experiments"][EXPERIMENT]
    assert asked["control"] == "A" and asked["design_from"] == "feedback log"


def test_an_unknown_control_is_refused_naming_the_variants() -> None:
    with pytest.raises(ValueError, match="'C' is not one of its variants \\(A, B\\)"):
        online_results(exactly(1, 10, "A") + exactly(1, 10, "B"), control="C")


def test_a_tiny_sample_warns_that_it_cannot_detect_the_lift() -> None:
    result = online_results(exactly(2, 20, "A") + exactly(3, 20, "B"))["experiments"][EXPERIMENT]
    assert result["power"]["enough"] is False
    assert any("too few impressions to detect a 5% lift" in w for w in result["warnings"])


def test_default_lists_and_lists_outside_any_experiment_are_counted_apart() -> None:
    outside = impression("o1", "default", "r9", experiment=None)
    rows = [
        *exactly(10, 100, "A"),
        *exactly(10, 100, "B"),
        *exactly(50, 50, "default"),
        outside,
        click(outside, 2),
    ]
    results = online_results(rows)
    result = results["experiments"][EXPERIMENT]
    assert result["variants"] == ["A", "B"]
    assert result["outside"] == {"impressions": 50, "clicks": 50, "clicked_impressions": 50}
    assert result["ab"]["variants"]["A"]["impressions"] == 100  # default's clicks not in A
    assert results["outside_experiments"]["impressions"] == 1
    assert list(results["experiments"]) == [EXPERIMENT]


def test_a_click_without_its_impression_counts_in_no_rate() -> None:
    lost = impression("lost", "B", "r1")
    results = online_results([*exactly(10, 100, "A"), *exactly(10, 100, "B"), click(lost, 1)])
    result = results["experiments"][EXPERIMENT]
    assert result["ab"]["variants"]["B"]["clicks"] == 10
    assert result["orphan_clicks"] == 1
    assert any("no impression" in w for w in result["warnings"])


def test_one_reader_s_many_clicks_show_in_the_reader_check() -> None:
    # B's extra clicks all come from one reader: significant per impression, not per reader.
    rows = exactly(100, 1_000, "A")
    for i in range(1_000):
        reader = "heavy" if i < 300 else f"r-B-{i}"
        served = impression(f"B-{i}", "B", reader)
        rows.append(served)
        if i < 300 or i % 10 == 0:
            rows.append(click(served, 1))
    result = online_results(rows)["experiments"][EXPERIMENT]
    b = result["ab"]["variants"]["B"]
    assert b["p_value"] < 0.05 and b["reader_p_value"] >= 0.05
    assert any("not per reader" in w for w in result["warnings"])


def test_ctr_by_position_counts_only_the_positions_seen() -> None:
    first = impression("p1", "A", "r1", length=4, visible=(1, 2))
    second = impression("p2", "A", "r2", length=4)
    rows = [first, click(first, 2), second, click(second, 2), click(second, 4)]
    by_position = online_results(rows + exactly(0, 1, "B"))["experiments"][EXPERIMENT][
        "by_position"
    ]["A"]
    seen = {p["position"]: (p["rate"]["successes"], p["rate"]["trials"]) for p in by_position}
    assert seen == {1: (0, 2), 2: (2, 2), 3: (0, 1), 4: (1, 1)}


def test_lists_are_also_compared_one_list_at_a_time() -> None:
    rows = exactly(10, 100, "A") + exactly(20, 100, "B")
    more = impression("m1", "B", "r1", list_name="more_like_this")
    result = online_results([*rows, more, click(more, 1)])["experiments"][EXPERIMENT]
    lists = result["ab"]["lists"]
    assert set(lists) == {"more_like_this", "related"}
    assert lists["more_like_this"]["B"]["impressions"] == 1
    assert lists["related"]["B"]["impressions"] == 100


# --- interleaving -----------------------------------------------------------------------------

TEAMS = ("A", "B", "A", "B")


def interleaved(nonce: str, reader: str | None, clicks: Sequence[int]) -> list[Feedback]:
    served = impression(nonce, "interleaved", reader, length=4, teams=TEAMS)
    return [served, *(click(served, p) for p in clicks)]


def test_interleaving_counts_wins_losses_and_ties_per_list_and_per_reader() -> None:
    rows = [
        *interleaved("i1", "r1", [1]),  # A wins
        *interleaved("i2", "r1", [1, 3]),  # A wins
        *interleaved("i3", "r1", [2]),  # B wins; r1: A 3, B 1 -> reader win
        *interleaved("i4", "r2", [1, 2]),  # tie; r2 tie
        *interleaved("i5", "r3", []),  # no clicks; r3 no clicks
        *interleaved("i6", "r4", [4]),  # B wins; r4 loss
    ]
    result = online_results(rows)["experiments"][EXPERIMENT]
    assert result["kind"] == "interleaving" and result["variants"] == ["A", "B"]
    figures = result["interleaving"]
    assert figures["credits"] == {"A": 4, "B": 3}
    per_list = figures["per_list"]
    assert (per_list["wins"], per_list["losses"], per_list["ties"], per_list["no_clicks"]) == (
        2,
        2,
        1,
        1,
    )
    assert per_list["units"] == 6
    assert per_list["preference"] == pytest.approx(0.0)
    assert per_list["p_value"] == pytest.approx(1.0)
    per_reader = figures["per_reader"]
    assert (per_reader["wins"], per_reader["losses"], per_reader["ties"]) == (1, 1, 1)
    assert per_reader["no_clicks"] == 1 and per_reader["units"] == 4
    assert result["power"]["have"] == 4 and result["power"]["enough"] is False
    assert result["verdict"] == {
        "better": None,
        "p_value": pytest.approx(1.0),
        "method": "interleaving",
        "confidence": pytest.approx(0.95),
    }


def test_interleaving_names_the_team_readers_prefer() -> None:
    rows: list[Feedback] = []
    for i in range(60):
        rows += interleaved(f"i{i}", f"r{i}", [2] if i % 6 == 0 else [1])  # B wins 10, A 50
    result = online_results(rows)["experiments"][EXPERIMENT]
    per_list = result["interleaving"]["per_list"]
    assert per_list["p_value"] == pytest.approx(binomtest(50, 60, 0.5).pvalue)
    assert per_list["preference"] == pytest.approx(40 / 60)
    assert per_list["low"] < 40 / 60 < per_list["high"]
    assert result["verdict"]["better"] == "A"
    flipped = online_results(rows, control="B")["experiments"][EXPERIMENT]
    assert flipped["verdict"]["better"] == "A"
    assert flipped["interleaving"]["per_list"]["preference"] == pytest.approx(-40 / 60)


def test_interleaving_credits_clicks_by_position_to_each_team() -> None:
    rows = [*interleaved("i1", "r1", [1]), *interleaved("i2", "r2", [2, 3])]
    by_team = online_results(rows)["experiments"][EXPERIMENT]["by_position"]
    a = {p["position"]: p["rate"]["successes"] for p in by_team["A"]}
    b = {p["position"]: p["rate"]["successes"] for p in by_team["B"]}
    assert a == {1: 1, 3: 1} and b == {2: 1, 4: 0}


def test_an_experiment_with_one_variant_so_far_has_no_verdict() -> None:
    result = online_results(exactly(5, 50, "A"))["experiments"][EXPERIMENT]
    assert result["verdict"]["better"] is None
    assert "nothing to compare" in result["warnings"][0]


@pytest.mark.parametrize(
    ("option", "value"), [("alpha", 0.0), ("alpha", 1.0), ("power", 1.5), ("min_lift", 0.0)]
)
def test_out_of_range_options_are_refused(option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        online_results([], **{option: value})  # type: ignore[arg-type]


# --- the written report -----------------------------------------------------------------------


def test_the_report_writes_results_json_report_md_and_a_png(tmp_path: Path) -> None:
    results = online_results(ab_rows({"A": 0.10, "B": 0.20}, 500))
    written = write_online_report(tmp_path / "out", results)
    names = [p.name for p in written]
    assert names[:2] == ["results.json", "report.md"]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["format_version"] == 1
    experiment = saved["experiments"][EXPERIMENT]
    assert experiment["verdict"]["better"] == "B"
    png = tmp_path / "out" / experiment["plot"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**Verdict: B is better than A** at 95% confidence" in report
    assert f"![CTR by position]({png.name})" in report
    assert "Readers, not impressions, are randomised" in report
    assert not list((tmp_path / "out").glob(".tmp-*"))


def test_several_variants_against_the_control_are_holm_adjusted() -> None:
    rows = ab_rows({"A": 0.10, "B": 0.20, "C": 0.11}, 2_000)
    result = online_results(rows)["experiments"][EXPERIMENT]
    variants = result["ab"]["variants"]
    assert result["verdict"]["better"] == "B"
    for name in ("B", "C"):
        assert variants[name]["p_value"] >= variants[name]["p_value_unadjusted"]
    # Holm: the smaller raw p-value is doubled, the larger kept (here above the doubled one).
    assert variants["B"]["p_value"] == pytest.approx(2 * variants["B"]["p_value_unadjusted"])


def test_an_experiment_without_feedback_yet_reports_no_verdict_and_no_plot(tmp_path: Path) -> None:
    designs = {EXPERIMENT: Design(EXPERIMENT, "interleaving", ("A", "B"))}
    results = online_results([], designs=designs, experiment=EXPERIMENT)
    assert results["experiments"][EXPERIMENT]["verdict"]["better"] is None
    written = write_online_report(tmp_path, results)
    assert [p.name for p in written] == ["results.json", "report.md"]
    assert "**Verdict: no variant is better**" in (tmp_path / "report.md").read_text()
