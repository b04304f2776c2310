"""``newsrec`` starts without importing what only the model or evaluation needs.

Run as real processes with ``-X importtime``, which lists every module a process imported.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from recommender.cli.app import LAZY_LIBRARIES

_MODULE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def imported(*args: str) -> set[str]:
    """The top-level packages a Python process run with ``args`` imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {name.split(".")[0] for name in _MODULE.findall(done.stderr)}


def test_importing_the_cli_imports_no_heavy_library() -> None:
    modules = imported("-c", "import recommender.cli")
    assert "recommender" in modules
    assert modules & LAZY_LIBRARIES == set()


def test_status_imports_no_heavy_library(sample_home_template: Path) -> None:
    modules = imported("-m", "recommender", "status", "--home", str(sample_home_template))
    assert "faiss" in modules  # it did open the index
    assert modules & LAZY_LIBRARIES == set()


def test_related_of_a_published_article_imports_no_heavy_library(
    sample_home_template: Path,
) -> None:
    args = ("related", "sample-039", "--home", str(sample_home_template))
    assert imported("-m", "recommender", *args) & LAZY_LIBRARIES == set()
