"""``newsrec precompute`` on Ray: the in-process path's lines, in its order."""

from __future__ import annotations

from pathlib import Path

from recommender.distributed.precompute import precompute_on_ray
from recommender.experiments.signer import configured_ids
from recommender.operations.precompute import precompute
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import free_port, make_settings
from tests.distributed.support import lines_of, without_ids
from tests.reliability.support import invoke_newsrec, run_newsrec


def test_precompute_on_ray_writes_the_in_process_lines_with_valid_ids(
    ray_local: None, sample_home: Path, tmp_path: Path
) -> None:
    settings = make_settings(sample_home)
    ids = configured_ids(settings)
    request = ListRequest(k_more=4, k_related=4, k_popular=3)
    engine = Engine(settings)
    try:
        here = precompute(engine, tmp_path / "here.jsonl", request, ids=ids, workers=1)
    finally:
        engine.close()
    # Small batches: ten of them, shared by the two workers.
    there = precompute_on_ray(settings, tmp_path / "ray.jsonl", request, batch=8, ids=ids)
    assert (there.articles, there.index_version) == (80, here.index_version)
    lines = lines_of(tmp_path / "ray.jsonl")
    assert without_ids(lines) == without_ids(lines_of(tmp_path / "here.jsonl"))
    assert [ids.check(line["recommendation_id"]).source for line in lines] == [
        line["article"]["id"] for line in lines
    ]


def test_the_precompute_command_on_ray_says_where_it_ran_and_writes_gzip(
    ray_local: None, sample_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "lists.jsonl.gz"
    result = invoke_newsrec("precompute", "--home", sample_home, "--out", out, "--ray", "local")
    assert result.returncode == 0, result.stderr
    assert "wrote 80 articles' lists" in result.stdout
    assert "precompute on Ray: 2 workers on 1 node" in result.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no part or temporary left


def test_an_unreachable_cluster_fails_in_one_line_and_touches_nothing(
    sample_home: Path, tmp_path: Path
) -> None:
    # In a process of its own: this one may have a Ray running, which the commands would use.
    index = sample_home / "index"
    current = (index / "CURRENT").read_bytes()
    versions = sorted(p.name for p in index.iterdir())
    address = f"127.0.0.1:{free_port()}"
    out = tmp_path / "lists.jsonl"
    for args in (["reindex"], ["precompute", "--out", out]):
        result = run_newsrec(*args, "--home", sample_home, "--ray", address, timeout=60)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "cannot reach a Ray cluster" in result.stderr
    assert (index / "CURRENT").read_bytes() == current
    assert sorted(p.name for p in index.iterdir()) == versions
    assert not out.exists()
