"""A replica with a shared index store: it swaps in what the builder publishes, and keeps its
version (saying why) when the shared one is damaged."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from index import Catalogue, IndexStore
from recommender.operations.indexing import publish_index
from service.app import create_app
from tests.conftest import make_settings


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_replica_serves_what_the_builder_publishes_and_keeps_it_when_the_next_is_damaged(
    sample_home_template: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    builder = make_settings(tmp_path / "builder", store_url=str(shared))
    replica = make_settings(tmp_path / "replica", store_url=str(shared))
    shutil.copytree(sample_home_template, builder.home)
    shutil.copytree(sample_home_template, replica.home)
    app = create_app(replica)
    with TestClient(app):
        engine = app.state.engine
        assert engine.published_name == "v000001"
        with Catalogue(builder.catalogue_path) as catalogue:
            published = publish_index(
                catalogue, IndexStore(builder.index_root), builder, rebuild=True
            )
        assert (shared / "CURRENT").read_text() == f"{published.name}\n"
        assert eventually(lambda: engine.published_name == published.name)
        assert app.state.store_error is None

        # An upload damaged on its way: a new manifest (so a new version) over a bad file.
        damaged = shared / "v000099"
        shutil.copytree(shared / published.name, damaged)
        manifest = json.loads((damaged / "manifest.json").read_text())
        manifest["created_at"] = "2030-01-01T00:00:00+00:00"
        (damaged / "manifest.json").write_text(json.dumps(manifest))
        victim = damaged / sorted(manifest["files"])[0]
        victim.write_bytes(b"not what was published")
        (shared / "CURRENT").write_text("v000099\n")

        assert eventually(lambda: app.state.store_error is not None)
        assert f"v000099/{victim.name}: checksum mismatch" in str(app.state.store_error)
        assert engine.published_name == published.name
        kept = IndexStore(replica.index_root).current()
        assert kept is not None and kept.name == published.name
        metrics = app.state.metrics.render().decode()
        assert "newsrec_store_fetch_failures_total 0.0" not in metrics
        assert "newsrec_store_fetch_failures_total" in metrics
