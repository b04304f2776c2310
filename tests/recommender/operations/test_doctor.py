"""``newsrec doctor`` on damage SQLite's own check misses: the file header and article text
that no longer matches its stored content hash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from recommender.operations.doctor import examine
from tests.conftest import make_settings


def _errors(home: Path, **settings: object) -> list[str]:
    found = examine(make_settings(home, **settings)).findings
    return [str(f) for f in found if f.severity == "error"]


def test_a_healthy_home_has_no_findings(sample_home: Path) -> None:
    assert examine(make_settings(sample_home)).findings == []


def test_a_damaged_write_version_in_the_header_is_an_error(sample_home: Path) -> None:
    catalogue = sample_home / "catalogue.sqlite"
    data = bytearray(catalogue.read_bytes())
    data[18] ^= 0xFF  # over 2: SQLite reads the file but refuses every write
    catalogue.write_bytes(bytes(data))
    errors = _errors(sample_home)
    assert len(errors) == 1 and "byte 18" in errors[0] and "write version" in errors[0]


def test_text_changed_behind_newsrec_is_found_by_its_content_hash(sample_home: Path) -> None:
    with sqlite3.connect(sample_home / "catalogue.sqlite") as db:
        db.execute("UPDATE articles SET title = title || ' (edited)' WHERE id = 'sample-001'")
    errors = _errors(sample_home)
    assert len(errors) == 1 and "1 of 80 sampled" in errors[0] and "'sample-001'" in errors[0]


def test_hashes_made_with_other_embedding_settings_are_only_a_warning(sample_home: Path) -> None:
    checkup = examine(make_settings(sample_home, max_seq_length=128))
    assert checkup.healthy
    assert any("other embedding settings" in f.message for f in checkup.findings)


def test_a_malformed_experiments_file_makes_the_home_unhealthy(
    sample_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text('name = "x"\nkind = "abc"\n', encoding="utf-8")
    checkup = examine(make_settings(sample_home, experiments_file=path))
    assert not checkup.healthy
    assert any(str(path) in f.message and "kind" in f.message for f in checkup.findings)
    path.write_text('name = "x"\n[variants.A]\nshare = 0.5\n', encoding="utf-8")
    checkup = examine(make_settings(sample_home, experiments_file=path))
    assert checkup.healthy and checkup.facts["experiment"] == "x (ab: A, default)"
