"""``newsrec precompute``: every published article's lists, exactly as serving makes them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from typer.testing import CliRunner

from index import Catalogue
from recommender.cli import app
from recommender.experiments.signer import configured_ids
from recommender.operations.precompute import precompute
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from recommender.serving.views import lists_view
from tests.conftest import make_settings


def _lines(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_one_line_per_published_article(sample_home: Path, tmp_path: Path) -> None:
    settings = make_settings(sample_home)
    with Catalogue(settings.catalogue_path) as catalogue:
        catalogue.unpublish("sample-003")
        published = {r.id for r in catalogue.iter_records()}
    engine = Engine(settings)
    try:
        report = precompute(engine, tmp_path / "lists.jsonl")
    finally:
        engine.close()
    ids = [line["article"]["id"] for line in _lines(tmp_path / "lists.jsonl")]  # type: ignore[index]
    assert report.articles == len(ids) == len(published) and set(ids) == published


def test_lines_equal_what_serving_returns(sample_home: Path, tmp_path: Path) -> None:
    engine = Engine(make_settings(sample_home))
    try:
        request = ListRequest(k_more=4, k_related=3)
        precompute(engine, tmp_path / "lists.jsonl", request, batch=7)  # several batches
        for line in _lines(tmp_path / "lists.jsonl"):
            source = line["article"]["id"]  # type: ignore[index]
            assert line == lists_view(engine.lists_for(source, request))
    finally:
        engine.close()


def test_gz_name_writes_gzip_and_leaves_no_temporary_file(
    sample_home: Path, tmp_path: Path
) -> None:
    engine = Engine(make_settings(sample_home))
    try:
        report = precompute(engine, tmp_path / "out" / "lists.jsonl.gz")
    finally:
        engine.close()
    assert len(_lines(report.path)) == report.articles
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["lists.jsonl.gz"]


def test_cli_writes_the_file_and_says_how_many(sample_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "lists.jsonl"
    result = CliRunner().invoke(
        app, ["precompute", "--home", str(sample_home), "--out", str(out), "-k", "3"]
    )
    assert result.exit_code == 0, result.output
    lines = _lines(out)
    assert f"wrote {len(lines)} articles' lists" in result.output
    assert all(len(line["related"]) <= 3 for line in lines)  # type: ignore[arg-type]
    # Each line names its lists with an id the service accepts (same home, same key).
    ids = configured_ids(make_settings(sample_home))
    nonces = set()
    for line in lines:
        trace = ids.check(str(line["recommendation_id"]))
        assert trace.source == line["article"]["id"]  # type: ignore[index]
        assert list(trace.lists.get("related", ())) == [i["id"] for i in line["related"]]  # type: ignore[attr-defined]
        assert line["variant"] == trace.variant == "default"
        nonces.add(trace.nonce)
    assert len(nonces) == len(lines)


def test_worker_processes_write_the_same_lists_with_ids(sample_home: Path, tmp_path: Path) -> None:
    engine = Engine(make_settings(sample_home))
    ids = configured_ids(make_settings(sample_home))
    try:
        alone = precompute(engine, tmp_path / "one.jsonl", batch=9, workers=1, ids=ids)
        shared = precompute(engine, tmp_path / "two.jsonl", batch=9, workers=2, ids=ids)
    finally:
        engine.close()
    one, two = _lines(tmp_path / "one.jsonl"), _lines(tmp_path / "two.jsonl")
    for first, second in zip(one, two, strict=True):
        # Two runs are two sets of served lists; the lists themselves are the same.
        assert first.pop("recommendation_id") != second.pop("recommendation_id")
        assert first == second
    assert alone.articles == shared.articles


def test_worker_processes_write_what_one_process_writes(sample_home: Path, tmp_path: Path) -> None:
    engine = Engine(make_settings(sample_home))
    try:
        alone = precompute(engine, tmp_path / "one.jsonl", batch=9, workers=1)
        shared = precompute(engine, tmp_path / "two.jsonl", batch=9, workers=2)
    finally:
        engine.close()
    assert alone.articles == shared.articles > 0
    assert alone.sha256 == shared.sha256
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
