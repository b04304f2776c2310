"""Index files that match their checksums but hold what no build writes: refused in one line
naming the array, never a traceback.

Each case rewrites one array of the published version and then the manifest's checksums, as a
hand edit or a bug would, so that only the content is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.support import invoke_newsrec


def _rewrite(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    def rewrite(version: Path) -> None:
        file = version / f"extra-{name}.npy"
        np.save(file, change(np.load(file)))

    return rewrite


CASES = {
    "docs of another type": (_rewrite("table_docs", lambda a: a.astype(np.float64)), "float64"),
    "docs out of range": (_rewrite("table_docs", lambda a: np.full_like(a, 10**9)), "outside"),
    "cosines not finite": (
        _rewrite("table_cosine", lambda a: np.full_like(a, np.nan)),
        "not finite",
    ),
    "seq as text": (_rewrite("table_seq", lambda a: np.array(["x"])), "not integers"),
    "sources out of order": (_rewrite("hood_sources", lambda a: a[::-1].copy()), "ascending"),
    "vectors of another dimension": (
        _rewrite("table_vectors", lambda a: a[:, : a.shape[1] // 2].copy()),
        "dimensions",
    ),
}


def _reseal(version: Path) -> None:
    manifest_file = version / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["files"] = {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(version.iterdir())
        if f.name != "manifest.json"
    }
    manifest_file.write_text(json.dumps(manifest, indent=2))


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_consistent_but_invalid_index_is_refused_in_one_line(
    sample_home: Path, case: str, ledger: Counter[str]
) -> None:
    damage, words = CASES[case]
    version = sample_home / "index" / (sample_home / "index" / "CURRENT").read_text().strip()
    damage(version)
    _reseal(version)
    result = invoke_newsrec("related", "sample-039", "--home", sample_home)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("newsrec: error:")]
    assert len(lines) == 1 and words in lines[0] and "reindex" in lines[0], result.stderr
    ledger["inputs: consistent but invalid index files"] += 1
