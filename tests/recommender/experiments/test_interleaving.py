"""Team-draft interleaving: fair, order-keeping, reproducible; a click credits its team."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommender.experiments.interleaving import preference, team_draft


class _Coins(random.Random):
    """Coin flips given in advance, so that a draft can be worked by hand."""

    def __init__(self, flips: list[int]) -> None:
        super().__init__(0)
        self._flips = iter(flips)

    def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
        return next(self._flips)


_ids = st.lists(st.sampled_from([f"a{i}" for i in range(30)]), max_size=25, unique=True)


def test_a_draft_worked_by_hand() -> None:
    # Tie, coin 0: a takes x1. b has fewer: x2. Tie, coin 1: b takes x4. a has fewer: x2 is
    # taken, so x3.
    drafted = team_draft(["x1", "x2", "x3"], ["x2", "x4", "x5"], 4, _Coins([0, 1]))
    assert drafted == [("x1", 0), ("x2", 1), ("x4", 1), ("x3", 0)]


def test_identical_rankings_interleave_to_that_ranking() -> None:
    ranking = [f"x{i}" for i in range(10)]
    drafted = team_draft(ranking, ranking, 10, random.Random(3))
    assert [item for item, _ in drafted] == ranking


@given(_ids, _ids, st.integers(0, 30), st.integers(0, 2**32))
def test_no_item_twice_and_at_most_k(a: list[str], b: list[str], k: int, seed: int) -> None:
    drafted = team_draft(a, b, k, random.Random(seed))
    items = [item for item, _ in drafted]
    assert len(items) == len(set(items))
    assert len(items) == min(k, len(set(a) | set(b)))


@given(_ids, _ids, st.integers(0, 30), st.integers(0, 2**32))
def test_each_team_keeps_its_own_order(a: list[str], b: list[str], k: int, seed: int) -> None:
    drafted = team_draft(a, b, k, random.Random(seed))
    for team, ranking in enumerate((a, b)):
        picked = [item for item, t in drafted if t == team]
        assert picked == sorted(picked, key=ranking.index)


@given(_ids, _ids, st.integers(0, 2**32))
def test_each_pick_is_its_teams_best_item_left(a: list[str], b: list[str], seed: int) -> None:
    drafted = team_draft(a, b, 30, random.Random(seed))
    for at, (item, team) in enumerate(drafted):
        taken = {i for i, _ in drafted[:at]}
        assert item == next(i for i in (a, b)[team] if i not in taken)


@given(st.integers(0, 30), st.integers(0, 2**32))
def test_team_counts_differ_by_at_most_one_at_every_prefix(k: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = [f"x{i}" for i in range(80)]
    a, b = rng.sample(pool, 40), rng.sample(pool, 40)  # overlapping, each long enough for k
    drafted = team_draft(a, b, k, random.Random(seed))
    assert len(drafted) == k
    for end in range(1, k + 1):
        teams = [t for _, t in drafted[:end]]
        assert abs(teams.count(0) - teams.count(1)) <= 1


def test_when_one_ranking_runs_out_the_other_fills_the_list() -> None:
    drafted = team_draft(["x"], ["y", "z", "w"], 4, random.Random(0))
    assert sorted(drafted) == [("w", 1), ("x", 0), ("y", 1), ("z", 1)]


def test_the_list_stops_when_both_rankings_are_exhausted() -> None:
    drafted = team_draft(["x", "y"], ["y", "z"], 10, random.Random(0))
    assert sorted(item for item, _ in drafted) == ["x", "y", "z"]


def test_k_zero_gives_nothing_and_a_negative_k_is_refused() -> None:
    assert team_draft(["x"], ["y"], 0, random.Random(0)) == []
    with pytest.raises(ValueError, match="k must be"):
        team_draft(["x"], ["y"], -1, random.Random(0))


def test_the_same_seed_gives_the_same_draft() -> None:
    a, b = [f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]
    assert team_draft(a, b, 10, random.Random(42)) == team_draft(a, b, 10, random.Random(42))


def test_the_coin_gives_each_team_the_first_pick_half_the_time() -> None:
    a, b = ["a"], ["b"]
    firsts = [team_draft(a, b, 1, random.Random(seed))[0][1] for seed in range(2_000)]
    assert 0.45 < firsts.count(0) / len(firsts) < 0.55


def test_more_clicks_for_a_prefers_a() -> None:
    assert preference([0, 1, 0, 1], [1, 3, 2]) == 1


def test_more_clicks_for_b_prefers_b() -> None:
    assert preference([0, 1, 0, 1], [2]) == -1


def test_equal_clicks_or_none_is_a_tie() -> None:
    assert preference([0, 1, 0, 1], [1, 2]) == 0
    assert preference([0, 1, 0, 1], []) == 0


def test_a_position_clicked_twice_counts_once() -> None:
    assert preference([0, 1, 1], [1, 1, 1, 2, 3]) == -1


@pytest.mark.parametrize("position", [0, 4, -1])
def test_a_position_outside_the_list_is_refused(position: int) -> None:
    with pytest.raises(ValueError, match="outside the list of 3"):
        preference([0, 1, 0], [position])


def test_a_team_other_than_0_or_1_is_refused() -> None:
    with pytest.raises(ValueError, match="teams must be 0 or 1"):
        preference([0, 2], [1])
