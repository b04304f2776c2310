"""The simulated readers: the click model, the checkpoint search, and (slow) a run through a
real ``newsrec serve`` whose report must name the better variant."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evaluation.click_model import (
    ClickModel,
    click_probabilities,
    examination,
    expected_ctr,
    favoured,
    sample_clicks,
)
from evaluation.simulation import (
    Plan,
    Verdict,
    checkpoints,
    experiments_toml,
    first_crossings,
    half_power_point,
    names_better,
    planned_sessions,
    settled,
    simulate,
)
from recommender.experiments.config import load_experiments


def test_examination_falls_with_position_as_a_power() -> None:
    assert examination(1, 0.8) == 1.0
    assert examination(4, 0.5) == pytest.approx(0.5)
    assert examination(3, 0.0) == 1.0


@pytest.mark.parametrize(("position", "eta"), [(0, 0.8), (-1, 0.8), (1, -0.1), (1, float("nan"))])
def test_examination_refuses_a_bad_position_or_exponent(position: int, eta: float) -> None:
    with pytest.raises(ValueError, match=r"position|eta"):
        examination(position, eta)


def test_favoured_items_are_those_the_better_list_ranks_higher() -> None:
    # a: 1st against 2nd (favoured); b: 2nd against 1st (not); c: absent from the other (favoured)
    assert favoured(["a", "b", "c"], ["b", "a", "d"]) == {"a", "c"}


def test_identical_lists_favour_nothing() -> None:
    assert favoured(["a", "b"], ["a", "b"]) == frozenset()


def test_click_probability_is_examination_times_attractiveness() -> None:
    model = ClickModel(a0=0.5, effect=1.0, eta=1.0)
    # x: 1 * 0.5; y (favoured): 1/2 * 0.5 * 2
    assert click_probabilities(["x", "y"], frozenset({"y"}), model) == [0.5, 0.5]
    assert expected_ctr(["x", "y"], frozenset({"y"}), model) == pytest.approx(0.75)


def test_sampled_clicks_follow_the_click_probabilities() -> None:
    model = ClickModel(a0=0.4, effect=1.0, eta=0.8)
    shown, preferred = ["a", "b", "c"], frozenset({"c"})
    rng = random.Random(7)
    draws = 20_000
    counts = [0, 0, 0]
    for _ in range(draws):
        for position in sample_clicks(shown, preferred, model, rng):
            counts[position - 1] += 1
    for count, p in zip(counts, click_probabilities(shown, preferred, model), strict=True):
        assert count / draws == pytest.approx(p, abs=0.015)


@pytest.mark.parametrize(
    ("a0", "effect"), [(0.0, 0.5), (1.5, 0.0), (0.1, -0.2), (0.6, 1.0), (0.1, float("inf"))]
)
def test_click_model_refuses_impossible_parameters(a0: float, effect: float) -> None:
    with pytest.raises(ValueError, match=r"a0|effect"):
        ClickModel(a0=a0, effect=effect)


def test_checkpoints_grow_by_the_square_root_of_two_up_to_the_cap() -> None:
    assert checkpoints(50, 400) == [50, 71, 100, 141, 200, 283, 400]
    assert checkpoints(50, 60) == [50, 60]
    assert checkpoints(5, 5) == [5]
    assert checkpoints(1, 4) == [1, 2, 3, 4]  # strictly increasing even where rounding repeats


def test_checkpoints_refuse_a_cap_below_the_first() -> None:
    with pytest.raises(ValueError, match="first"):
        checkpoints(100, 50)


_NONE = Verdict(None, 0.4)
_B = Verdict("B", 0.01)


def test_a_verdict_counts_only_for_the_better_variant_below_alpha() -> None:
    assert names_better(Verdict("B", 0.049), "B", 0.05)
    assert not names_better(Verdict("B", 0.05), "B", 0.05)  # p must be below alpha
    assert not names_better(Verdict("A", 0.001), "B", 0.05)  # the wrong variant
    assert not names_better(Verdict("B", None), "B", 0.05)


def test_first_crossing_is_each_seeds_first_significant_checkpoint() -> None:
    histories = [
        [_NONE, Verdict("A", 0.01), _B, _NONE],  # crossed at 30, lost it later: still 30
        [_NONE, _NONE],  # its run stopped at 20 without a crossing
        [_B],
    ]
    assert first_crossings(histories, [10, 20, 30, 40], "B", 0.05) == [30, None, 10]


def test_half_power_point_needs_half_the_seeds_significant_at_the_same_checkpoint() -> None:
    # Each seed crossed once, at a different checkpoint: never two at once.
    staggered = [[_B, _NONE, _NONE], [_NONE, _B, _NONE], [_NONE, _NONE, _B], [_NONE] * 3]
    assert half_power_point(staggered, [10, 20, 30], "B", 0.05) is None
    together = [[_NONE, _B], [_B, _B], [_NONE, _NONE], [_NONE, _NONE]]
    assert half_power_point(together, [10, 20], "B", 0.05) == 20


def test_a_run_is_settled_once_both_medians_are_known() -> None:
    grid = [10, 20, 30]
    # 2 of 4 crossed: the median of 4 needs the 3rd crossing too.
    two = [[_B], [_B], [_NONE], [_NONE]]
    assert half_power_point(two, grid, "B", 0.05) == 10
    assert not settled(two, grid, "B", 0.05)
    three = [[_B, _B], [_B, _NONE], [_NONE, _B], [_NONE, _NONE]]
    assert settled(three, grid, "B", 0.05)
    # 3 of 4 crossed, but never 2 at the same checkpoint: the half-power point is unknown.
    apart = [[_B, _NONE, _NONE], [_NONE, _B, _NONE], [_NONE, _NONE, _B], [_NONE] * 3]
    assert not settled(apart, grid, "B", 0.05)


def test_planned_ab_sessions_follow_cohens_h_of_the_two_rates() -> None:
    figures = {"ab": {"variants": {"A": {"ctr": {"value": 0.25}}, "B": {"ctr": {"value": 0.30}}}}}
    # h = 2 asin(sqrt(0.30)) - 2 asin(sqrt(0.25)) = 0.11197; per arm 2 ((1.95996 + 0.84162) / h)^2
    # = 1,251.6 at 80% power; sessions are both arms.
    assert planned_sessions("ab", figures, alpha=0.05, power=0.8) == pytest.approx(2_503, rel=2e-3)


def test_planned_interleaving_sessions_scale_by_the_share_of_decided_lists() -> None:
    figures = {"interleaving": {"per_list": {"wins": 40, "losses": 60, "units": 400}}}
    # h = 2 asin(sqrt(0.6)) - 2 asin(sqrt(0.5)) = 0.20136; (2.80158 / h)^2 = 193.6 decided lists,
    # one in four lists is decided.
    assert planned_sessions("interleaving", figures, alpha=0.05, power=0.8) == pytest.approx(
        774.3, rel=2e-3
    )


def test_no_difference_plans_no_sessions() -> None:
    figures = {"interleaving": {"per_list": {"wins": 50, "losses": 50, "units": 400}}}
    assert planned_sessions("interleaving", figures, alpha=0.05, power=0.8) is None


@pytest.mark.parametrize("kind", ["ab", "interleaving"])
def test_experiments_file_is_one_the_service_loads(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(experiments_toml(kind, "sim-test", {"w_pop": 0.0}), encoding="utf-8")  # type: ignore[arg-type]
    experiment = load_experiments(path)
    assert experiment is not None
    assert experiment.kind == kind
    assert [v.name for v in experiment.variants] == ["A", "B"]
    assert dict(experiment.variants[1].overlay) == {"w_pop": 0.0}
    assert dict(experiment.variants[0].overlay) == {}


def test_plan_refuses_an_overlay_of_other_settings() -> None:
    with pytest.raises(ValueError, match="w_"):
        Plan(overlay={"cache_entries": 0})


@pytest.mark.slow
def test_report_names_the_better_variant_through_the_real_service(tmp_path: Path) -> None:
    """A strong effect, a few hundred sessions per kind: the report over what the service
    stored names B at 95% confidence, for the A/B split and for interleaving, and the lists
    held still through the run."""
    plan = Plan(
        overlay={"w_pop": 0.0},
        better="B",
        # On the bundled sample this effect lifts B's true CTR from about 0.57 to 0.76: at 300
        # sessions the A/B z-test expects z = 3.5, at 600 z = 4.9 (interleaving is surer still).
        model=ClickModel(a0=0.2, effect=3.0),
        seeds=1,
        first=300,
        cap=600,
    )
    summary = simulate(plan, tmp_path / "sim")
    for kind in ("ab", "interleaving"):
        found = summary["kinds"][kind]
        seed = found["seeds"][0]
        assert seed["crossed_at"] is not None, seed["history"]
        assert seed["lists_changed"] == 0
        assert found["report_verdict"][f"simulation-{kind}"]["better"] == "B"
        assert found["report_verdict"][f"simulation-{kind}"]["p_value"] < 0.05
        assert found["planned"]["power_0.8"] > found["planned"]["power_0.5"] > 0
    assert json.loads((tmp_path / "sim" / "simulation.json").read_text())["medians"]
