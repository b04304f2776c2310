"""The experiments file: what it describes, and one clear line for each way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.experiments.config import (
    DEFAULT_VARIANT,
    INTERLEAVED,
    ExperimentsError,
    Variant,
    load_experiments,
)
from recommender.ranking.scoring import Weights

AB = """
name = "related-weights-2026-12"
kind = "ab"

[variants.A]
share = 0.25

[variants.B]
share = 0.5
w_pop = 0.5
w_rec = 0
"""

INTERLEAVING = """
name = "pop-vs-none"
kind = "interleaving"
share = 0.4

[variants.A]

[variants.B]
w_pop = 0
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experiments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problem(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ExperimentsError) as caught:
        load_experiments(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_an_ab_file_gives_its_variants_shares_and_overlays(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, AB))
    assert experiment is not None
    assert experiment.name == "related-weights-2026-12"
    assert experiment.kind == "ab"
    assert experiment.salt == "related-weights-2026-12"
    assert experiment.variants == (
        Variant("A", 0.25, {}),
        Variant("B", 0.5, {"w_pop": 0.5, "w_rec": 0.0}),
    )
    assert experiment.share == 0.75


def test_shares_below_one_leave_readers_on_default(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, AB))
    assert experiment is not None
    assert experiment.variant_names() == ("A", "B", DEFAULT_VARIANT)


def test_shares_summing_to_one_in_decimals_leave_no_default(tmp_path: Path) -> None:
    text = 'name = "x"\n[variants.A]\nshare = 0.1\n[variants.B]\nshare = 0.2\n'
    text += "[variants.C]\nshare = 0.7\n"
    experiment = load_experiments(_write(tmp_path, text))
    assert experiment is not None
    assert experiment.variant_names() == ("A", "B", "C")


def test_a_variant_weighs_the_base_with_its_overlay(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, AB))
    assert experiment is not None
    base = Weights.defaults()
    assert experiment.weights_for("B", base) == base.overridden({"w_pop": 0.5, "w_rec": 0.0})
    assert experiment.weights_for("A", base) == base
    assert experiment.weights_for(DEFAULT_VARIANT, base) == base


def test_an_unknown_variant_has_no_weights(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, AB))
    assert experiment is not None
    with pytest.raises(ValueError, match="unknown variant 'C'; the variants are A, B, default"):
        experiment.weights_for("C", Weights.defaults())


def test_an_interleaving_file_gives_both_variants_and_its_share(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, INTERLEAVING))
    assert experiment is not None
    assert experiment.kind == "interleaving"
    assert experiment.share == 0.4
    assert experiment.variant_names() == ("A", "B", INTERLEAVED, DEFAULT_VARIANT)
    assert experiment.weights_for("B", Weights.defaults())["popularity"] == 0.0
    assert experiment.weights_for(INTERLEAVED, Weights.defaults()) == Weights.defaults()


def test_interleaving_everyone_leaves_no_default(tmp_path: Path) -> None:
    text = INTERLEAVING.replace("share = 0.4\n", "")
    experiment = load_experiments(_write(tmp_path, text))
    assert experiment is not None
    assert experiment.share == 1.0
    assert experiment.variant_names() == ("A", "B", INTERLEAVED)


def test_a_salt_can_be_set(tmp_path: Path) -> None:
    experiment = load_experiments(_write(tmp_path, 'salt = "s2"\n' + AB))
    assert experiment is not None
    assert experiment.salt == "s2"


def test_a_disabled_experiment_is_none(tmp_path: Path) -> None:
    assert load_experiments(_write(tmp_path, "enabled = false\n" + AB)) is None


def test_a_disabled_experiment_is_still_checked(tmp_path: Path) -> None:
    text = "enabled = false\n" + AB.replace("w_pop", "w_popp")
    assert "unknown key 'w_popp'" in _problem(tmp_path, text)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ExperimentsError, match=f"{path}: cannot read experiments file"):
        load_experiments(path)


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    assert "line 3" in _problem(tmp_path, 'name = "x"\n\nkind = \n')


def test_a_missing_name_is_refused(tmp_path: Path) -> None:
    assert "missing name" in _problem(tmp_path, "[variants.A]\nshare = 0.5\n")


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "slash/name"])
def test_a_bad_experiment_name_is_refused(tmp_path: Path, name: str) -> None:
    assert "name must match" in _problem(tmp_path, f'name = "{name}"\n[variants.A]\nshare = 1\n')


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, 'kind = "bandit"\n' + AB.replace('kind = "ab"\n', ""))
    assert problem == 'kind must be "ab" or "interleaving", got \'bandit\''


def test_an_unknown_top_level_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    problem = _problem(tmp_path, "enabeld = true\n" + AB)
    assert problem.startswith("unknown key 'enabeld'; did you mean enabled?")


def test_an_unknown_overlay_key_names_the_allowed_weights(tmp_path: Path) -> None:
    problem = _problem(tmp_path, AB.replace("w_pop", "w_popp"))
    assert problem == (
        "unknown key 'w_popp' in variants.B; did you mean w_pop? "
        "(allowed: share, w_sim, w_rec, w_pop, w_coread, w_section, w_story)"
    )


def test_an_overlay_of_another_setting_is_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, AB.replace("w_pop = 0.5", "top_k = 5"))
    assert "unknown key 'top_k' in variants.B" in problem


@pytest.mark.parametrize("share", ["0", "-0.1", "1.5", "nan", "inf", '"half"', "true"])
def test_a_bad_share_is_refused(tmp_path: Path, share: str) -> None:
    problem = _problem(tmp_path, AB.replace("share = 0.25", f"share = {share}"))
    assert problem.startswith("variants.A.share must be a number with 0 < share <= 1")


def test_a_missing_share_is_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, AB.replace("share = 0.25\n", ""))
    assert problem == "variants.A: missing share (0 < share <= 1)"


def test_shares_summing_above_one_are_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, AB.replace("share = 0.25", "share = 0.6"))
    assert problem == "the variants' shares sum to 1.1, above 1"


@pytest.mark.parametrize("value", ["-1", "nan", '"0.5"', "true"])
def test_a_bad_weight_is_refused(tmp_path: Path, value: str) -> None:
    problem = _problem(tmp_path, AB.replace("w_pop = 0.5", f"w_pop = {value}"))
    assert problem.startswith("variants.B")
    assert "w_pop" in problem


def test_weights_all_zero_are_refused(tmp_path: Path) -> None:
    zeros = "\n".join(f"{w} = 0" for w in ("w_sim", "w_rec", "w_pop", "w_coread"))
    problem = _problem(tmp_path, AB.replace("w_pop = 0.5\nw_rec = 0", zeros))
    assert problem == "variants.B: the weights must not all be 0"


@pytest.mark.parametrize("name", ["default", "interleaved"])
def test_a_reserved_variant_name_is_refused(tmp_path: Path, name: str) -> None:
    problem = _problem(tmp_path, AB.replace("[variants.A]", f"[variants.{name}]"))
    assert problem == f"variant name {name!r} is reserved"


def test_a_bad_variant_name_is_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, AB.replace("[variants.A]", '[variants."a.b"]'))
    assert problem.startswith("variant name must match")


def test_no_variants_is_refused(tmp_path: Path) -> None:
    assert _problem(tmp_path, 'name = "x"\n').startswith("no variants")


def test_interleaving_needs_exactly_two_variants(tmp_path: Path) -> None:
    text = INTERLEAVING + "[variants.C]\n"
    assert _problem(tmp_path, text) == "interleaving takes exactly two variants, got 3"


def test_interleaving_variants_take_no_share(tmp_path: Path) -> None:
    text = INTERLEAVING.replace("[variants.A]\n", "[variants.A]\nshare = 0.5\n")
    assert _problem(tmp_path, text).startswith("variants.A: interleaving variants take no share")


def test_an_ab_experiment_takes_no_top_level_share(tmp_path: Path) -> None:
    assert "top-level share is for interleaving" in _problem(tmp_path, "share = 0.5\n" + AB)


def test_a_bad_interleaving_share_is_refused(tmp_path: Path) -> None:
    problem = _problem(tmp_path, INTERLEAVING.replace("share = 0.4", "share = 0"))
    assert problem.startswith("share must be a number with 0 < share <= 1")
