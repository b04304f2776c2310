"""The signer a home's settings configure, and the checker that writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommender.experiments.secret import SECRET_FILE
from recommender.experiments.signer import checking_ids, configured_ids
from recommender.experiments.tokens import InvalidRecommendation, Trace
from tests.conftest import make_settings

TRACE = Trace(
    source="sample-002",
    lists={"related": ("sample-003", "sample-014")},
    teams={},
    variant="default",
    experiment=None,
    index_version="v000001",
    reader=None,
    issued_at=datetime.now(UTC),
    nonce="0123456789abcdef",
)


def test_the_checker_accepts_what_the_home_signed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    token = configured_ids(settings).issue(TRACE)
    assert checking_ids(settings).check(token).lists == TRACE.lists


def test_a_home_without_a_key_writes_none_and_refuses_every_id(tmp_path: Path) -> None:
    other = configured_ids(make_settings(tmp_path / "other")).issue(TRACE)
    home = tmp_path / "home"
    home.mkdir()
    with pytest.raises(InvalidRecommendation) as refused:
        checking_ids(make_settings(home)).check(other)
    assert refused.value.reason == "forged"
    assert not (home / SECRET_FILE).exists() and list(home.iterdir()) == []


def test_a_configured_key_is_shared_by_every_home(tmp_path: Path) -> None:
    key = "a configured key for all replicas"
    token = configured_ids(make_settings(tmp_path / "a", recommendation_secret=key)).issue(TRACE)
    assert checking_ids(make_settings(tmp_path / "b", recommendation_secret=key)).check(token)
    assert not (tmp_path / "b").exists()
