"""Stable assignment: shares met, same reader same variant, and a change of shares moves only
the readers it must."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from recommender.experiments.assignment import assign, reader_hash
from recommender.experiments.config import Experiment, load_experiments

SECRET = b"0123456789abcdef0123456789abcdef"
READERS = [reader_hash(f"reader-{i}", SECRET) for i in range(100_000)]


def _experiment(tmp_path: Path, shares: dict[str, float], *, salt: str = "s") -> Experiment:
    lines = [f'name = "exp"\nsalt = "{salt}"']
    lines += [f"[variants.{name}]\nshare = {share}" for name, share in shares.items()]
    path = tmp_path / f"experiments-{len(list(tmp_path.iterdir()))}.toml"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_experiments(path)
    assert loaded is not None
    return loaded


def _assigned(experiment: Experiment) -> list[str]:
    return [assign(experiment, reader) for reader in READERS]


def _shares(experiment: Experiment) -> dict[str, float]:
    counts = Counter(_assigned(experiment))
    return {name: count / len(READERS) for name, count in counts.items()}


def _moves(before: Experiment, after: Experiment) -> Counter[tuple[str, str]]:
    moved: Counter[tuple[str, str]] = Counter()
    for old, new in zip(_assigned(before), _assigned(after), strict=True):
        if old != new:
            moved[(old, new)] += 1
    return moved


def test_shares_are_met_within_one_point(tmp_path: Path) -> None:
    shares = _shares(_experiment(tmp_path, {"A": 0.2, "B": 0.3, "C": 0.1}))
    assert shares == pytest.approx({"A": 0.2, "B": 0.3, "C": 0.1, "default": 0.4}, abs=0.01)


def test_the_same_reader_always_gets_the_same_variant(tmp_path: Path) -> None:
    once, twice = (_experiment(tmp_path, {"A": 0.5, "B": 0.5}) for _ in range(2))
    first = [assign(once, reader) for reader in READERS[:10_000]]
    again = [assign(twice, reader) for reader in READERS[:10_000]]
    assert first == again
    assert set(first) == {"A", "B"}


def test_moving_share_from_a_to_b_moves_only_a_readers_to_b(tmp_path: Path) -> None:
    before = _experiment(tmp_path, {"A": 0.5, "B": 0.5})
    moved = _moves(before, _experiment(tmp_path, {"A": 0.4, "B": 0.6}))
    assert set(moved) == {("A", "B")}
    assert moved[("A", "B")] / len(READERS) == pytest.approx(0.1, abs=0.01)


def test_adding_a_variant_takes_only_default_readers(tmp_path: Path) -> None:
    before = _experiment(tmp_path, {"A": 0.3, "B": 0.3})
    after = _experiment(tmp_path, {"A": 0.3, "B": 0.3, "C": 0.2})
    moved = _moves(before, after)
    assert set(moved) == {("default", "C")}
    assert moved[("default", "C")] / len(READERS) == pytest.approx(0.2, abs=0.01)


def test_removing_the_last_variant_sends_its_readers_to_default_only(tmp_path: Path) -> None:
    before = _experiment(tmp_path, {"A": 0.3, "B": 0.3, "C": 0.2})
    moved = _moves(before, _experiment(tmp_path, {"A": 0.3, "B": 0.3}))
    assert set(moved) == {("C", "default")}


@pytest.mark.parametrize("ramped", ["A", "B"])
def test_ramping_one_of_two_variants_moves_in_only_default_readers(
    tmp_path: Path, ramped: str
) -> None:
    before = _experiment(tmp_path, {"A": 0.1, "B": 0.1})
    after = _experiment(tmp_path, {"A": 0.1, "B": 0.1} | {ramped: 0.4})
    assert set(_moves(before, after)) == {("default", ramped)}


def test_ramping_both_variants_moves_only_default_readers(tmp_path: Path) -> None:
    before = _experiment(tmp_path, {"A": 0.05, "B": 0.05})
    moved = _moves(before, _experiment(tmp_path, {"A": 0.5, "B": 0.5}))
    assert set(moved) == {("default", "A"), ("default", "B")}


def test_a_new_salt_reshuffles_readers(tmp_path: Path) -> None:
    before = _experiment(tmp_path, {"A": 0.5, "B": 0.5})
    moved = _moves(before, _experiment(tmp_path, {"A": 0.5, "B": 0.5}, salt="t"))
    assert sum(moved.values()) / len(READERS) == pytest.approx(0.5, abs=0.02)


def test_shares_summing_to_one_leave_no_reader_on_default(tmp_path: Path) -> None:
    chosen = _experiment(tmp_path, {"A": 0.1, "B": 0.2, "C": 0.7})
    assert "default" not in chosen.variant_names()
    assert set(_shares(chosen)) == {"A", "B", "C"}


def test_interleaving_serves_its_share_interleaved(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(
        'name = "exp"\nkind = "interleaving"\nshare = 0.25\n'
        "[variants.A]\n[variants.B]\nw_pop = 0.5\n"
    )
    chosen = load_experiments(path)
    assert chosen is not None
    assert _shares(chosen) == pytest.approx({"interleaved": 0.25, "default": 0.75}, abs=0.01)


def test_a_reader_hash_is_16_hex_characters_keyed_by_the_secret() -> None:
    hashed = reader_hash("reader-1", SECRET)
    assert re.fullmatch(r"[0-9a-f]{16}", hashed)
    assert reader_hash("reader-1", SECRET) == hashed
    assert reader_hash("reader-1", b"another secret of some length") != hashed
    assert reader_hash("reader-2", SECRET) != hashed


def test_a_long_secret_still_keys_the_hash() -> None:
    long_a, long_b = b"a" * 100, b"a" * 99 + b"b"
    assert reader_hash("reader-1", long_a) != reader_hash("reader-1", long_b)


def test_an_empty_reader_or_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="reader id is empty"):
        reader_hash("", SECRET)
    with pytest.raises(ValueError, match="secret"):
        reader_hash("reader-1", b"")
