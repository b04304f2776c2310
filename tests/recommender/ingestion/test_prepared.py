"""``newsrec ingest --vectors``: articles with their vectors from shards, without the model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import Catalogue
from recommender.ingestion.prepared import ingest_vectors
from recommender.ingestion.shards import (
    ShardMismatch,
    new_shard_path,
    read_shard,
    shard_info,
    shard_paths,
    shard_table,
    write_shard,
)
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.settings import Settings
from tests.conftest import ROOT, SAMPLE, make_settings
from tests.reliability.support import invoke_newsrec

SAMPLE_IDS = [json.loads(line)["id"] for line in SAMPLE.read_text().splitlines() if line.strip()]


def _settings(home: Path) -> Settings:
    return make_settings(home, embed_backend="torch")  # as the shards were made


@pytest.fixture
def shards(sample_shards_template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "shards"
    shutil.copytree(sample_shards_template, folder)
    return folder


def _lists(engine: Engine, article_id: str) -> list[list[tuple[str, float]]]:
    lists = engine.lists_for(article_id, ListRequest())
    return [
        [(item.article.id, item.score) for item in getattr(lists, name)]
        for name in ("more_like_this", "related", "popular")
    ]


def test_the_lists_equal_those_of_a_normal_ingest(
    shards: Path, sample_home_template: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    report = ingest_vectors(shards, _settings(home))
    assert (report.added, report.shards, report.damaged) == (80, 1, [])
    loaded, ingested = Engine(_settings(home)), Engine(make_settings(sample_home_template))
    for article_id in SAMPLE_IDS:
        ours, theirs = _lists(loaded, article_id), _lists(ingested, article_id)
        for mine, reference in zip(ours, theirs, strict=True):
            assert [i for i, _ in mine] == [i for i, _ in reference], article_id
            assert np.allclose([s for _, s in mine], [s for _, s in reference], atol=1e-6)


def test_the_catalogue_holds_the_shards_vectors_and_articles(shards: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    ingest_vectors(shards, settings)
    path = shard_paths(shards)[0]
    records, vectors = read_shard(path, shard_info(path), embedding_key=settings.embedding_key)
    with Catalogue(settings.catalogue_path) as catalogue:
        stored = catalogue.get(records[7].id)
        assert stored is not None and stored.title == records[7].title
        ids, matrix = catalogue.vectors()
        assert np.array_equal(matrix[list(ids).index(stored.doc_id)], vectors[7])


def test_loading_twice_changes_nothing(shards: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    ingest_vectors(shards, settings)
    again = ingest_vectors(shards, settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 80)


def test_the_cli_loads_no_model(shards: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from recommender.cli import main\n"
        f"sys.argv = ['newsrec', 'ingest', '--vectors', {str(shards)!r}, '--home',"
        f" {str(tmp_path / 'home')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers', 'openvino')\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    env = {"NEWSREC_EMBED_BACKEND": "torch", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("added 80, updated 0, unchanged 0 from 1 shards")
    assert result.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("NEWSREC_MODEL", "all-mpnet-base-v2", "'all-mpnet-base-v2'"),
        ("NEWSREC_MAX_SEQ_LENGTH", "128", "'all-MiniLM-L6-v2|128'"),
    ],
)
def test_shards_of_other_settings_are_refused_in_one_line_writing_nothing(
    shards: Path, tmp_path: Path, variable: str, value: str, named: str
) -> None:
    home = tmp_path / "home"
    env = {"NEWSREC_EMBED_BACKEND": "torch", variable: value}
    result = invoke_newsrec("ingest", "--vectors", shards, "--home", home, **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and named in result.stderr
    assert str(shard_paths(shards)[0]) in result.stderr
    assert not home.exists()


def test_shards_of_another_dimension_are_refused_writing_nothing(
    sample_home: Path, tmp_path: Path
) -> None:
    settings = make_settings(sample_home)
    folder = tmp_path / "shards"
    with Catalogue(settings.catalogue_path) as catalogue:
        record = catalogue.get(SAMPLE_IDS[0])
        before = catalogue.last_seq()
    assert record is not None
    from recommender.embedding.embedder import vector_identity

    table = shard_table(
        [record], np.ones((1, 8), np.float32), vector_identity(settings), settings.embedding_key
    )
    write_shard(new_shard_path(folder), table)
    with pytest.raises(ShardMismatch, match="dimension 8, but the catalogue has dimension 384"):
        ingest_vectors(folder, settings)
    with Catalogue(settings.catalogue_path) as catalogue:
        assert catalogue.last_seq() == before


def test_a_damaged_shard_is_named_and_skipped_and_the_rest_land(
    shards: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path / "home")
    path = shard_paths(shards)[0]
    shutil.copy(path, shards / "shard-zz-damaged.parquet")
    damaged = shards / "shard-zz-damaged.parquet"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # a page fails its checksum
    damaged.write_bytes(bytes(data))
    (shards / ".shard-half-written.parquet.123.tmp").write_bytes(b"PAR1 partial")
    report = ingest_vectors(shards, settings)
    assert report.added == 80 and report.shards == 1
    assert len(report.damaged) == 1 and str(damaged) in report.damaged[0]
    assert report.not_loaded == 80


def test_a_folder_without_shards_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke_newsrec("ingest", "--vectors", tmp_path / "empty", "--home", tmp_path / "h")
    assert result.returncode == 2 and "no vector shards" in result.stderr


def test_files_and_vectors_together_are_refused(shards: Path, tmp_path: Path) -> None:
    result = invoke_newsrec("ingest", SAMPLE, "--vectors", shards, "--home", tmp_path / "h")
    assert result.returncode == 2 and "not both" in result.stderr
