"""``newsrec embed``: article files to vector shards, the same in-process and on Ray."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recommender.distributed.embed import EmbedReport, embed_files
from recommender.embedding.embedder import Embedder
from recommender.ingestion.shards import ShardMismatch, shard_paths, shard_table, write_shard
from recommender.settings import Settings
from tests.conftest import SAMPLE, make_settings
from tests.reliability.support import invoke_newsrec

SAMPLE_IDS = [json.loads(line)["id"] for line in SAMPLE.read_text().splitlines() if line.strip()]


def _settings(tmp_path: Path) -> Settings:
    # The torch backend: the vectors of the session's model, which embeds here too.
    return make_settings(tmp_path / "home", embed_backend="torch")


def _never() -> Embedder:
    pytest.fail("the model was loaded, but there was nothing to embed")


def _few(tmp_path: Path, n: int = 4) -> Path:
    """The first ``n`` sample articles, as a file of their own: small inputs keep tests quick."""
    few = tmp_path / "few.jsonl"
    few.write_text("".join(line + "\n" for line in SAMPLE.read_text().splitlines()[:n]))
    return few


def _read(out: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in shard_paths(out))


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "ok-1", "title": "A good row between bad ones"}\n'
        '{"id": "has space", "title": "Bad id"}\n'
        "not json\n"
        '{"id": "no-title"}\n',
        encoding="utf-8",
    )
    return bad


def _embed(
    inputs: list[str], out: Path, settings: Settings, embedder: Embedder, **kw: object
) -> EmbedReport:
    return embed_files(inputs, out, settings, embedder=lambda: embedder, **kw)  # type: ignore[arg-type]


def test_every_valid_row_is_written_with_its_vector_and_article(
    sample_shards_template: Path, embedder: Embedder
) -> None:
    table = _read(sample_shards_template)
    assert table.column("id").to_pylist() == SAMPLE_IDS
    vectors = np.stack(table.column("vector").to_numpy(zero_copy_only=False))
    first = json.loads(SAMPLE.read_text().splitlines()[0])
    expected = embedder.encode([f"{first['title']}. {first['body']}"])[0]
    assert float(vectors[0] @ expected) > 0.9999
    assert set(table.column("model").to_pylist()) == {"all-MiniLM-L6-v2"}
    assert set(table.column("dim").to_pylist()) == {384}
    assert table.column("section").to_pylist()[0] == first["section"]


def test_rejected_rows_are_reported_with_file_and_line_and_the_rest_land(
    tmp_path: Path, embedder: Embedder
) -> None:
    bad = _bad_file(tmp_path)
    report = _embed([str(bad)], tmp_path / "shards", _settings(tmp_path), embedder)
    assert report.written == 1 and report.rejected == 3
    assert [str(p).split(": ")[0] for p in report.problems] == [f"{bad}:2", f"{bad}:3", f"{bad}:4"]
    assert "title: missing" in str(report.problems[2])


def test_a_rerun_skips_what_the_shards_hold_without_loading_the_model(
    tmp_path: Path, sample_shards_template: Path
) -> None:
    out = tmp_path / "shards"
    shutil.copytree(sample_shards_template, out)
    again = embed_files([str(SAMPLE)], out, _settings(tmp_path), embedder=_never)
    assert (again.written, again.skipped, again.shards) == (0, len(SAMPLE_IDS), [])


def test_a_changed_article_is_embedded_again(
    tmp_path: Path, sample_shards_template: Path, embedder: Embedder
) -> None:
    out = tmp_path / "shards"
    shutil.copytree(sample_shards_template, out)
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    rows[5]["title"] = "A new headline for the sixth article"
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = _embed([str(changed)], out, _settings(tmp_path), embedder)
    assert (report.written, report.skipped) == (1, len(rows) - 1)
    assert pq.read_table(report.shards[0]).column("id").to_pylist() == [rows[5]["id"]]


def test_csv_parquet_and_file_uris_are_read(tmp_path: Path, embedder: Embedder) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text('id,title,tags\ncsv-1,"From a CSV file",a;b\n', encoding="utf-8")
    parquet = tmp_path / "b.parquet"
    pq.write_table(pa.table({"id": ["pq-1"], "title": ["From a Parquet file"]}), parquet)
    uri = _bad_file(tmp_path).as_uri()
    report = _embed([str(csv), str(parquet), uri], tmp_path / "s", _settings(tmp_path), embedder)
    assert _read(tmp_path / "s").column("id").to_pylist() == ["csv-1", "pq-1", "ok-1"]
    assert str(report.problems[0]).startswith(f"{uri}:2: id:")


def test_a_missing_file_is_reported_unreadable(tmp_path: Path) -> None:
    report = embed_files([str(tmp_path / "none.jsonl")], tmp_path / "s", _settings(tmp_path))
    assert report.nothing_read and report.unreadable == [f"{tmp_path / 'none.jsonl'}: no such file"]


def test_shards_of_another_model_in_the_folder_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "shards"
    table = shard_table([], np.zeros((0, 4), np.float32), "other-model", "other-model|256")
    write_shard(out / "shard-0.parquet", table)
    with pytest.raises(ShardMismatch, match="'other-model'"):
        embed_files([str(SAMPLE)], out, _settings(tmp_path), embedder=_never)


def test_a_damaged_shard_is_named_and_its_rows_embedded_again(
    tmp_path: Path, embedder: Embedder
) -> None:
    out, settings, few = tmp_path / "shards", _settings(tmp_path), _few(tmp_path)
    first = _embed([str(few)], out, settings, embedder).shards[0]
    first.write_bytes(first.read_bytes()[:-100])
    report = _embed([str(few)], out, settings, embedder)
    assert report.written == 4
    assert len(report.damaged_shards) == 1 and str(first) in report.damaged_shards[0]


def test_shards_are_cut_at_the_row_limit(tmp_path: Path, embedder: Embedder) -> None:
    out = tmp_path / "shards"
    report = _embed([str(_few(tmp_path, 5))], out, _settings(tmp_path), embedder, shard_rows=2)
    assert [pq.read_metadata(p).num_rows for p in shard_paths(out)] == [2, 2, 1]
    assert report.shards == shard_paths(out)


def test_the_cli_prints_one_summary_line_naming_rejects(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "has space", "title": "x"}\nnot json\n', encoding="utf-8")
    result = invoke_newsrec("embed", bad, "--out", tmp_path / "s", "--home", tmp_path / "h")
    assert result.returncode == 1  # nothing usable, so the model was never needed
    assert result.stdout.count("\n") == 1
    assert f"rejected 2 ({bad}:1: id:" in result.stdout
    assert f"{bad}:2: not valid JSON" in result.stdout


@pytest.mark.slow
def test_ray_gives_the_same_rows_vectors_and_rejects_as_in_process(
    tmp_path: Path, embedder: Embedder, ray_local: None
) -> None:
    settings = _settings(tmp_path)
    inputs = [str(_few(tmp_path, 12)), _bad_file(tmp_path).as_uri()]
    here = _embed(inputs, tmp_path / "here", settings, embedder)
    on_ray = embed_files(inputs, tmp_path / "ray", settings, on_ray=True)
    assert [str(p) for p in on_ray.problems] == [str(p) for p in here.problems]
    assert (on_ray.written, on_ray.rejected) == (here.written, here.rejected) == (13, 3)
    a, b = _read(tmp_path / "here"), _read(tmp_path / "ray")
    assert a.drop(["vector"]).equals(b.drop(["vector"]))
    va = np.stack(a.column("vector").to_numpy(zero_copy_only=False))
    vb = np.stack(b.column("vector").to_numpy(zero_copy_only=False))
    assert float(np.min(np.sum(va * vb, axis=1))) > 0.9999
    rerun = embed_files(inputs, tmp_path / "ray", settings, on_ray=True)
    assert (rerun.written, rerun.skipped) == (0, 13)
