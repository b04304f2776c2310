"""Format compatibility: the reference files of every on-disk format version keep loading with
exactly the answers worked out by hand, and a format newer than the code is refused clearly.

The references were written once by ``tests/data/make_reference.py``. The six 4-d vectors are
e1, e2, e3, e4 (doc ids 1-4), 5 = (0.6, 0.8, 0, 0) and 6 = (0, 0, 0.8, 0.6). Hence:

* query (0.8, 0.6, 0, 0): doc 5 scores 0.48 + 0.48 = 0.96, doc 1 0.8, doc 2 0.6, the rest 0;
* query (0, 0, 0.6, 0.8): doc 6 scores 0.96, doc 4 0.8, doc 3 0.6, the rest 0.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from index import FORMAT_VERSION, Catalogue, FormatVersionError, HNSWIndex, IndexStore

DATA = Path(__file__).resolve().parents[1] / "data"
INDEX_REFERENCES = sorted(DATA.glob("index-format-v*"))
CATALOGUE_REFERENCES = sorted(DATA.glob("catalogue-format-v*"))
QUERIES = np.array([[0.8, 0.6, 0.0, 0.0], [0.0, 0.0, 0.6, 0.8]], dtype=np.float32)


def _version_of(path: Path) -> int:
    return int(path.name.rsplit("-v", 1)[1])


def test_every_index_format_version_up_to_the_current_one_has_a_reference() -> None:
    assert [_version_of(p) for p in INDEX_REFERENCES] == list(range(1, FORMAT_VERSION + 1))


def test_every_catalogue_format_version_up_to_the_current_one_has_a_reference() -> None:
    assert [_version_of(p) for p in CATALOGUE_REFERENCES] == list(
        range(1, Catalogue.SCHEMA_VERSION + 1)
    )


@pytest.mark.parametrize("reference", INDEX_REFERENCES, ids=lambda p: p.name)
def test_a_reference_flat_index_loads_with_the_expected_answers(reference: Path) -> None:
    index, version = IndexStore(reference / "flat").load(expect_model="reference-model")
    assert (version.manifest.kind, version.manifest.count, index.dim) == ("flat", 6, 4)
    ids, scores = index.search(QUERIES, 3)
    assert ids.tolist() == [[5, 1, 2], [6, 4, 3]]
    np.testing.assert_allclose(scores, [[0.96, 0.8, 0.6], [0.96, 0.8, 0.6]], atol=1e-6)


@pytest.mark.parametrize("reference", INDEX_REFERENCES, ids=lambda p: p.name)
def test_a_reference_hnsw_index_loads_with_its_tombstone(reference: Path) -> None:
    index, version = IndexStore(reference / "hnsw").load(expect_model="reference-model")
    assert isinstance(index, HNSWIndex)
    assert (version.manifest.count, len(index), index.contains(5)) == (5, 5, False)
    ids, scores = index.search(QUERIES, 3)
    # Doc 5 was removed before the reference was written, so the first query skips it.
    assert ids.tolist() == [[1, 2, ids[0, 2]], [6, 4, 3]]
    assert ids[0, 2] in (3, 4, 6)  # the three docs that score 0 tie for third place
    np.testing.assert_allclose(scores, [[0.8, 0.6, 0.0], [0.96, 0.8, 0.6]], atol=1e-6)


@pytest.mark.parametrize("reference", CATALOGUE_REFERENCES, ids=lambda p: p.name)
def test_a_reference_catalogue_opens_with_its_articles_and_vectors(
    reference: Path, tmp_path: Path
) -> None:
    # Opening a catalogue writes to it (WAL files), so a copy is opened, never the reference.
    copy = tmp_path / "catalogue.sqlite"
    shutil.copyfile(reference / "catalogue.sqlite", copy)
    with Catalogue(copy) as catalogue:
        assert catalogue.count() == 5  # ref-6 was unpublished
        assert catalogue.last_seq() == 7  # six upserts and one delete
        first = catalogue.get("ref-1")
        assert first is not None
        assert (first.title, first.body, first.tags, first.popularity) == (
            "Reference article 1",
            "Body 1 — ünïcödé survives",
            ("tag1",),
            10.0,
        )
        assert first.published_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        # Format 2 added the metadata; a format-1 article, migrated on opening, has none.
        metadata = (first.author, first.kind, first.fields)
        if _version_of(reference) >= 2:
            assert metadata == (
                "Reporter 1",
                "news",
                (("desk", "metro"), ("premium", False), ("words", 100)),
            )
        else:
            assert metadata == (None, None, ())
        assert catalogue.get("ref-6") is None
        doc_ids, vectors = catalogue.vectors()
        assert doc_ids.tolist() == [1, 2, 3, 4, 5]
        np.testing.assert_array_equal(vectors[4], np.array([0.6, 0.8, 0.0, 0.0], np.float32))
        assert catalogue.check() == []


def test_an_index_manifest_of_a_newer_format_is_refused_clearly(tmp_path: Path) -> None:
    store_dir = tmp_path / "flat"
    shutil.copytree(INDEX_REFERENCES[-1] / "flat", store_dir)
    manifest = store_dir / "v000001" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = FORMAT_VERSION + 1
    data["a_field_from_the_future"] = True
    manifest.write_text(json.dumps(data))
    expected = (
        f"{manifest}: written by a newer newsrec (format {FORMAT_VERSION + 1}, "
        f"this version reads up to {FORMAT_VERSION})"
    )
    with pytest.raises(FormatVersionError, match=re.escape(expected)):
        IndexStore(store_dir).load()


def test_a_catalogue_of_a_newer_format_is_refused_clearly(tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.sqlite"
    shutil.copyfile(CATALOGUE_REFERENCES[-1] / "catalogue.sqlite", copy)
    newer = Catalogue.SCHEMA_VERSION + 1
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(newer),))
    conn.close()
    expected = (
        f"{copy}: written by a newer newsrec "
        f"(format {newer}, this version reads up to {Catalogue.SCHEMA_VERSION})"
    )
    with pytest.raises(FormatVersionError, match=re.escape(expected)):
        Catalogue(copy)
