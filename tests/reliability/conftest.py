"""Fixtures of the reliability suite, and the tally of what it inflicted.

Every test adds what it did to the ``ledger`` (kills, damaged files, inputs, requests) and what
was lost (which must stay 0); the totals are printed at the end of the run and written to
``test-output/reliability-figures.json`` for the README's reliability section.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import TEST_OUTPUT
from tests.reliability.support import build_synthetic_home, synthetic_rows

_LEDGER: Counter[str] = Counter()

#: Articles in the synthetic home: enough that a reindex writes for about a second.
SYNTHETIC_ARTICLES = 20_000


@pytest.fixture(scope="session")
def ledger() -> Counter[str]:
    """Counts of faults inflicted, inputs tried, requests sent and items lost, by kind."""
    return _LEDGER


@pytest.fixture(scope="session")
def synthetic_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published home of 20,000 articles with made-up vectors; copy before writing to it."""
    home = tmp_path_factory.mktemp("synthetic") / "home"
    build_synthetic_home(home, synthetic_rows(SYNTHETIC_ARTICLES))
    return home


@pytest.fixture
def synthetic_home(synthetic_home_template: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic home."""
    home = tmp_path / "synthetic-home"
    shutil.copytree(synthetic_home_template, home)
    return home


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the tally and write it to test-output/reliability-figures.json."""
    if not _LEDGER:
        return
    TEST_OUTPUT.mkdir(exist_ok=True)
    figures = dict(sorted(_LEDGER.items()))
    (TEST_OUTPUT / "reliability-figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    terminalreporter.section("reliability figures")
    for key, value in figures.items():
        terminalreporter.write_line(f"{key:>32}: {value}")
