"""Sweep configurations and the settings file the service loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.sweeps import run_sweep, sweep_configs, write_settings_file
from recommender.settings import Settings, read_settings_file


def test_the_first_trial_is_the_engine_defaults() -> None:
    first = sweep_configs("random", 5, seed=0)[0]
    defaults = Settings.model_fields
    assert first["w_pop"] == defaults["w_pop"].default
    assert first["w_rec"] == defaults["w_rec"].default
    assert first["w_sim"] == defaults["w_sim"].default


def test_weights_of_every_trial_after_the_defaults_add_up_to_one() -> None:
    for config in sweep_configs("grid", 30, seed=1)[1:]:
        assert config["w_sim"] + config["w_rec"] + config["w_pop"] == pytest.approx(1.0)


def test_the_same_seed_gives_the_same_trials() -> None:
    assert sweep_configs("random", 8, seed=3) == sweep_configs("random", 8, seed=3)


def test_a_grid_larger_than_the_trials_is_sampled_down() -> None:
    assert len(sweep_configs("grid", 7, seed=0)) == 7


def test_fixed_settings_are_not_swept() -> None:
    configs = sweep_configs("random", 4, seed=0, fixed={"w_rec": 0.0})
    assert all("w_rec" not in c for c in configs)


def test_the_best_trial_has_the_highest_objective() -> None:
    result = run_sweep(
        [{"w_pop": 0.1}, {"w_pop": 0.3}, {"w_pop": 0.2}],
        lambda c: -abs(c["w_pop"] - 0.3),
        kind="grid",
        objective_name="x",
    )
    assert result.best.config == {"w_pop": 0.3}


def test_the_settings_file_loads_into_settings(tmp_path: Path) -> None:
    path = tmp_path / "best.toml"
    write_settings_file({"w_sim": 0.6, "w_rec": 0.1, "w_pop": 0.3}, path, comment="best\nrun")
    values = read_settings_file(path)
    assert Settings(**values).w_pop == 0.3


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="not newsrec settings"):
        write_settings_file({"w_magic": 1.0}, Path("unused.toml"), comment="")


def test_a_random_sweep_runs_as_many_trials_as_asked() -> None:
    assert len(sweep_configs("random", 12, seed=0)) == 12
