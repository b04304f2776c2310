"""The one scoring formula: named weights checked once, every part by name, parts add up."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.ranking.scoring import (
    SIGNALS,
    WeightError,
    Weights,
    list_weights,
    score,
)
from recommender.settings import Settings


def _signals(**values: list[float]) -> dict[str, np.ndarray]:
    return {name: np.array(v, dtype=np.float32) for name, v in values.items()}


def test_parts_are_weighted_signals_and_add_up_to_the_total() -> None:
    signals = _signals(
        cosine=[0.8, 0.2], lexical=[0.5, 0.0], recency=[1.0, 0.5], popularity=[0.0, 1.0]
    )
    weights = Weights({"similarity": 1.0, "recency": 0.1, "popularity": 0.5})
    scores = score(signals, weights, lexical_share=0.25)
    # Worked by hand: 0.75 * 0.8 + 0.25 * 0.5 + 0.1 * 1.0 = 0.825; 0.75 * 0.2 + 0.05 + 0.5.
    assert scores.total == pytest.approx([0.825, 0.7])
    assert scores.of(0) == pytest.approx(
        {"similarity": 0.6, "lexical": 0.125, "recency": 0.1, "popularity": 0.0}
    )
    assert sum(scores.of(1).values()) == pytest.approx(float(scores.total[1]))


def test_a_weighed_signal_that_was_not_measured_counts_zero() -> None:
    scores = score(_signals(cosine=[1.0], lexical=[0.0]), Weights({"coread": 2.0}), lexical_share=0)
    assert scores.of(0) == {"coread": 0.0}


def test_unknown_or_negative_weights_are_refused_with_their_name() -> None:
    with pytest.raises(WeightError, match="unknown signal 'virality'"):
        Weights({"virality": 1.0})
    with pytest.raises(WeightError, match="w_pop must be a finite number"):
        Weights({"popularity": -1.0})
    with pytest.raises(WeightError, match="unknown weight 'w_popp'"):
        Weights.defaults().overridden({"w_popp": 0.5})


def test_overriding_by_weight_name_keeps_the_others() -> None:
    weights = Weights.defaults().overridden({"w_pop": 0.0, "w_rec": None})
    assert weights["popularity"] == 0.0
    assert weights["recency"] == Weights.defaults()["recency"]


def test_settings_have_one_weight_field_per_signal() -> None:
    settings = Settings(w_section=0.25)
    assert Weights.from_settings(settings)["section"] == 0.25
    assert {s.weight for s in SIGNALS} <= set(Settings.model_fields)


def test_settings_refuse_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Settings(**{s.weight: 0.0 for s in SIGNALS})


def test_each_list_has_its_own_weights() -> None:
    related = Weights({"similarity": 1.0, "popularity": 0.5})
    assert list_weights("related", related, story_weight=0.3) is related
    more = list_weights("more_like_this", related, story_weight=0.3)
    assert (more["similarity"], more["story"], more["popularity"]) == (1.0, 0.3, 0.0)
    popular = list_weights("popular", related, story_weight=0.3)
    assert popular.total() == popular["popularity"] == 1.0
