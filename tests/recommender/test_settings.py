"""Settings: a typo in a settings file or a ``NEWSREC_*`` variable stops the command, naming
the closest setting; the variables read outside the settings are let through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from recommender.settings import VARIABLES_OUTSIDE_SETTINGS, UnknownSetting, load_settings


def test_an_unknown_variable_is_refused_with_the_closest_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSREC_W_POPP", "0.5")
    with pytest.raises(UnknownSetting) as raised:
        load_settings()
    assert str(raised.value) == (
        "unknown environment variable NEWSREC_W_POPP; did you mean NEWSREC_W_POP?"
    )


def test_an_unknown_variable_without_a_close_name_points_to_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSREC_ZQXJ", "1")
    with pytest.raises(UnknownSetting, match=re.escape("NEWSREC_ZQXJ (README.md, Configuration")):
        load_settings()


def test_a_variable_is_matched_without_regard_to_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("newsrec_candidates", "77")
    assert load_settings().candidates == 77


@pytest.mark.parametrize("variable", sorted(VARIABLES_OUTSIDE_SETTINGS))
def test_the_variables_read_outside_the_settings_are_allowed(
    variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = "1"
    if variable == "NEWSREC_SETTINGS_FILE":
        value = str(tmp_path / "s.toml")
        (tmp_path / "s.toml").write_text("candidates = 60\n")
    monkeypatch.setenv(variable, value)
    load_settings()


def test_an_unknown_key_in_a_settings_file_is_refused_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "best.toml"
    path.write_text("w_sim = 1.0\nw_popp = 0.5\n")
    monkeypatch.setenv("NEWSREC_SETTINGS_FILE", str(path))
    with pytest.raises(UnknownSetting) as raised:
        load_settings()
    assert str(raised.value) == f"{path}: unknown setting 'w_popp'; did you mean w_pop?"


def test_a_json_settings_file_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "best.json"
    path.write_text('{"mmr_lambda": 0.8, "mmr_lamda": 0.7}')
    monkeypatch.setenv("NEWSREC_SETTINGS_FILE", str(path))
    with pytest.raises(UnknownSetting, match="'mmr_lamda'; did you mean mmr_lambda"):
        load_settings()


def test_known_keys_of_a_settings_file_apply(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "best.toml"
    path.write_text("w_pop = 0.25\nhome = 'ignored'\n")
    monkeypatch.setenv("NEWSREC_SETTINGS_FILE", str(path))
    settings = load_settings(home=tmp_path)
    assert (settings.w_pop, settings.home) == (0.25, tmp_path)


def test_a_short_recommendation_secret_is_refused_when_the_settings_load(tmp_path: Path) -> None:
    # Refused here, so `newsrec serve` stops in one line instead of each worker at startup.
    with pytest.raises(ValidationError, match="at least 16 characters"):
        load_settings(home=tmp_path, recommendation_secret="short")
    assert load_settings(home=tmp_path, recommendation_secret="").recommendation_secret is None
