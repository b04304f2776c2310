"""The signing key: a configured one wins; otherwise one random key per home, created once."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from recommender.experiments.secret import SECRET_BYTES, SECRET_FILE, home_secret


def test_a_configured_secret_wins(tmp_path: Path) -> None:
    assert home_secret(tmp_path, "a configured key of some length") == (
        b"a configured key of some length"
    )
    assert not (tmp_path / SECRET_FILE).exists()


def test_a_short_configured_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        home_secret(tmp_path, "short")


def test_the_home_key_is_created_once_and_kept(tmp_path: Path) -> None:
    first = home_secret(tmp_path, None)
    assert len(first) == SECRET_BYTES
    assert home_secret(tmp_path, None) == first
    assert (tmp_path / SECRET_FILE).read_bytes() == first


def test_the_home_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    home_secret(tmp_path, None)
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    home_secret(tmp_path, None)
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]


def test_two_homes_have_different_keys(tmp_path: Path) -> None:
    assert home_secret(tmp_path / "a", None) != home_secret(tmp_path / "b", None)


def test_a_damaged_home_key_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_bytes(b"short")
    with pytest.raises(ValueError, match=SECRET_FILE):
        home_secret(tmp_path, None)


def _race(home: str, start: Any, out: Any) -> None:
    start.wait()
    out.put(home_secret(Path(home), None))


def test_workers_racing_to_create_the_key_agree_on_one(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = 6
    for attempt in range(5):
        home = tmp_path / str(attempt)
        start = context.Barrier(workers)
        out = context.Queue()
        processes = [
            context.Process(target=_race, args=(str(home), start, out)) for _ in range(workers)
        ]
        for process in processes:
            process.start()
        keys = {out.get(timeout=30) for _ in processes}
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
        assert keys == {(home / SECRET_FILE).read_bytes()}
