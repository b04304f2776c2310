"""The catalogue contract's backends: every test here runs on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from index import DatabaseLock, WriterLock
from index.targets import is_database_url

Target = Path | str
LockFactory = Callable[..., Any]


@pytest.fixture(params=["sqlite", "postgres"])
def catalogue_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """Where a fresh catalogue goes: a file in the test's folder, or an empty PostgreSQL
    database of the test's own (``pg_url``, tests/conftest.py)."""
    if request.param == "sqlite":
        yield tmp_path / "catalogue.sqlite"
        return
    # pg_url closes the pools before it drops the database.
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def other_target(
    catalogue_target: Target, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Target]:
    """A fresh catalogue place on the other backend (to copy to)."""
    if is_database_url(catalogue_target):
        yield tmp_path / "copy.sqlite"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def writer_lock(catalogue_target: Target, tmp_path: Path) -> LockFactory:
    """Makes the backend's writer lock: ``writer_lock(wait=..., purpose=...)``."""
    if is_database_url(catalogue_target):
        url = str(catalogue_target)
        return lambda **kwargs: DatabaseLock(url, **kwargs)
    return lambda **kwargs: WriterLock(tmp_path / "home", **kwargs)
