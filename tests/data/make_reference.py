"""Write the reference files of the current on-disk formats, once per format version.

    .venv/bin/python tests/data/make_reference.py

creates ``tests/data/index-format-v<N>/`` (a flat and an HNSW index store) for the index
manifest format N = ``index.FORMAT_VERSION``, and ``tests/data/catalogue-format-v<M>/`` for the
catalogue schema M = ``Catalogue.SCHEMA_VERSION``, unless they exist already: a reference is
never rewritten, because its point is to be what an older newsrec wrote. When a format version
is raised, run this again and commit the new directory beside the old ones;
``tests/reliability/test_rel_format.py`` then checks that every one of them still loads.

The six 4-dimensional vectors are chosen so that the expected answers can be worked out by hand
(see the test): doc ids 1-4 are the unit axes, 5 is (0.6, 0.8, 0, 0) and 6 is (0, 0, 0.8, 0.6).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index import FORMAT_VERSION, ArticleRecord, Catalogue, FlatIndex, HNSWIndex, IndexStore

DATA = Path(__file__).resolve().parent
DOC_IDS = np.arange(1, 7, dtype=np.int64)
VECTORS = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.6, 0.8, 0.0, 0.0],
        [0.0, 0.0, 0.8, 0.6],
    ],
    dtype=np.float32,
)
MODEL = "reference-model"


def write_indexes(target: Path) -> None:
    """A flat store holding all six vectors; an HNSW store with doc 5 removed (a tombstone)."""
    flat = FlatIndex(4)
    flat.add(DOC_IDS, VECTORS)
    IndexStore(target / "flat").publish(flat, model=MODEL, catalogue_seq=6)
    hnsw = HNSWIndex(4, M=4, ef_construction=16, ef_search=16)
    hnsw.add(DOC_IDS, VECTORS)
    hnsw.remove(np.array([5], dtype=np.int64))
    IndexStore(target / "hnsw").publish(hnsw, model=MODEL, catalogue_seq=7)


def write_sq8_index(target: Path) -> None:
    """An HNSW store of sq8 storage (8-bit codes, exact vectors beside them), doc 5 removed."""
    hnsw = HNSWIndex(4, M=4, ef_construction=16, ef_search=16, storage="sq8")
    hnsw.add(DOC_IDS, VECTORS)
    hnsw.remove(np.array([5], dtype=np.int64))
    IndexStore(target).publish(hnsw, model=MODEL, catalogue_seq=7)


def write_catalogue(target: Path) -> None:
    """Six articles with the six vectors; article ref-6 is unpublished afterwards."""
    target.mkdir(parents=True)
    with Catalogue(target / "catalogue.sqlite") as catalogue:
        records = [
            ArticleRecord(
                id=f"ref-{i}",
                title=f"Reference article {i}",
                body=f"Body {i} — ünïcödé survives",
                url=f"https://example.org/ref-{i}",
                section="world" if i % 2 else "sport",
                tags=(f"tag{i}",),
                language="en",
                published_at=datetime(2026, 1, i, 12, 0, tzinfo=UTC),
                popularity=float(10 * i),
                content_hash=f"reference-hash-{i}",
                # From format 2: the article's author, kind and own fields.
                author=f"Reporter {i}",
                kind="news" if i % 2 else "opinion",
                fields=(("desk", "metro"), ("premium", i % 2 == 0), ("words", 100 * i)),
            )
            for i in range(1, 7)
        ]
        catalogue.upsert(records, {r.id: VECTORS[i] for i, r in enumerate(records)})
        catalogue.unpublish("ref-6")


def main() -> int:
    """Write whichever reference of the current formats is missing."""
    written = []
    index_dir = DATA / f"index-format-v{FORMAT_VERSION}"
    if not index_dir.exists():
        write_indexes(index_dir)
        written.append(index_dir)
    # Its own folder, not in index-format-v*: the manifest format is unchanged, a layout of the
    # hnsw kind's files was added (tests/index/test_index_hnsw_reference.py loads it).
    sq8_dir = DATA / "index-hnsw-sq8"
    if not sq8_dir.exists():
        write_sq8_index(sq8_dir)
        written.append(sq8_dir)
    catalogue_dir = DATA / f"catalogue-format-v{Catalogue.SCHEMA_VERSION}"
    if not catalogue_dir.exists():
        write_catalogue(catalogue_dir)
        written.append(catalogue_dir)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("the references of the current formats exist already; nothing written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
