"""Helpers of the reliability suite: run and kill real ``newsrec`` processes, build homes, and
take snapshots of what a home serves so that a fault can be shown to have changed nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from index import Catalogue, IndexStore, WriterLock
from recommender.ingestion.articles import article_from_mapping
from recommender.operations.doctor import examine
from recommender.operations.indexing import publish_index
from recommender.serving.engine import Engine
from recommender.serving.requests import ListRequest
from tests.conftest import make_settings

#: Ids of sample articles whose lists are compared before and after a fault.
PROBE_IDS = ("sample-001", "sample-020", "sample-041", "sample-066")

#: Settings of jobs on a synthetic home: a flat index whatever its size, because building an
#: HNSW graph of 20,000 vectors takes minutes on a shared 2-core machine and the crash safety
#: of a publish does not depend on the index kind (tests/index covers both kinds). A shallow
#: neighbour table likewise: its all-pairs search is most of a reindex at this size and comes
#: before anything is written, and a publish writes it the same way whatever its depth.
SYNTHETIC_SETTINGS = {"index_kind": "flat", "candidates": "20", "table_depth": "10"}


def synthetic_env(**extra: str) -> dict[str, str]:
    """The environment of a ``newsrec`` job on a synthetic home (see SYNTHETIC_SETTINGS)."""
    settings = {f"NEWSREC_{k.upper()}": v for k, v in SYNTHETIC_SETTINGS.items()}
    return cli_env(**settings, **extra)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a ``newsrec`` subprocess: offline, no developer NEWSREC_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    return env


def newsrec_cmd(*args: str | Path) -> list[str]:
    """The command line running ``newsrec ARGS`` with this interpreter."""
    return [sys.executable, "-m", "recommender", *map(str, args)]


def run_newsrec(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``newsrec ARGS`` to completion and return its exit code and output."""
    return subprocess.run(
        newsrec_cmd(*args),
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Invocation:
    """The exit code and output of a ``newsrec`` command run in this process."""

    returncode: int
    stdout: str
    stderr: str


def invoke_newsrec(*args: str | Path, **env: str) -> Invocation:
    """Run ``newsrec ARGS`` in this process (no interpreter start-up), with NEWSREC_* from
    ``env`` only; for commands whose output is checked, not for processes to kill."""
    from typer.testing import CliRunner

    from recommender.cli import app

    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("NEWSREC_")}
    environ.update(env)
    result = CliRunner().invoke(app, [str(a) for a in args], env=environ)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Invocation(result.exit_code, result.stdout, result.stderr)


def start_newsrec(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``newsrec ARGS`` in the background (output captured)."""
    return subprocess.Popen(
        newsrec_cmd(*args),
        env=env or cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sigkill(process: subprocess.Popen[str]) -> bool:
    """SIGKILL ``process`` now; True if it was still running (i.e. the kill interrupted it)."""
    running = process.poll() is None
    if running:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    return running


def wait_for(predicate: object, timeout: float, poll: float = 0.005) -> float | None:
    """Poll ``predicate()`` until true; seconds it took, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(poll)
    return None


@dataclass(frozen=True)
class Served:
    """What a home serves: the lists of the probe articles, as ids and rounded scores."""

    lists: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...]]]
    published: str | None

    def same_lists(self, other: Served) -> bool:
        """Equal lists (ids and scores), whichever published version holds them."""
        return self.lists == other.lists


def served(home: Path, probe_ids: Sequence[str] = PROBE_IDS) -> Served:
    """Open the home as the service does and take both lists of each probe article."""
    engine = Engine(make_settings(home))
    try:
        lists = {}
        for article_id in probe_ids:
            got = engine.lists_for(article_id, ListRequest(k_more=5, k_related=5))
            lists[article_id] = (
                tuple(i.article.id for i in got.more_like_this),
                tuple(i.article.id for i in got.related),
                tuple(round(i.score, 5) for i in [*got.more_like_this, *got.related]),
            )
        return Served(lists, engine.published_name)
    finally:
        engine.close()


def live_ids(home: Path) -> list[str]:
    """Every published article id in the home's catalogue, in doc id order (with repeats)."""
    with Catalogue(make_settings(home).catalogue_path, readonly=True) as catalogue:
        return [record.id for record in catalogue.iter_records()]


def errors_of(home: Path) -> list[str]:
    """The doctor's errors for the home (warnings, e.g. leftovers of a kill, are allowed)."""
    return [str(f) for f in examine(make_settings(home)).findings if f.severity == "error"]


def warnings_of(home: Path) -> list[str]:
    """The doctor's warnings for the home."""
    return [str(f) for f in examine(make_settings(home)).findings if f.severity == "warning"]


def published_count(home: Path) -> int:
    """How many vectors the CURRENT index version holds."""
    index, _ = IndexStore(make_settings(home).index_root).load()
    return len(index)


def synthetic_rows(n: int, *, prefix: str = "syn", popularity: int = 0) -> list[dict[str, object]]:
    """``n`` article rows with distinct text (for homes whose vectors are made up)."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    sections = ("world", "business", "sport", "science", "culture")
    return [
        {
            "id": f"{prefix}-{i:06d}",
            "title": f"Synthetic story {i} of the {sections[i % 5]} desk",
            "body": f"Made-up body text number {i}.",
            "section": sections[i % 5],
            "published_at": (start + timedelta(minutes=10 * i)).isoformat(),
            "popularity": popularity + i % 17,
        }
        for i in range(n)
    ]


def build_synthetic_home(home: Path, rows: list[dict[str, object]], seed: int = 0) -> None:
    """A home holding ``rows`` with random unit vectors, published once.

    For faults of the storage layer, whose behaviour does not depend on what the vectors mean;
    embedding tens of thousands of texts with the real model would take minutes.
    """
    settings = make_settings(home, **SYNTHETIC_SETTINGS)
    records = [article_from_mapping(r, embedding_key=settings.embedding_key) for r in rows]
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(records), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with WriterLock(home), Catalogue(settings.catalogue_path) as catalogue:
        for start in range(0, len(records), 5000):
            chunk = records[start : start + 5000]
            catalogue.upsert(chunk, {r.id: vectors[start + i] for i, r in enumerate(chunk)})
        publish_index(catalogue, IndexStore(settings.index_root), settings)


def write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    """Write ``rows`` as JSON lines."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def sample_rows() -> list[dict[str, object]]:
    """The bundled sample articles as rows."""
    from tests.conftest import SAMPLE

    return [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class IndexAnswers:
    """The CURRENT published version and what it answers to fixed queries."""

    version: str
    ids: list[list[int]]
    scores: list[list[float]]


def index_answers(home: Path, queries: int = 4, k: int = 10) -> IndexAnswers:
    """Load the CURRENT version (verifying it) and search it with the first stored vectors."""
    settings = make_settings(home)
    index, version = IndexStore(settings.index_root).load()
    with Catalogue(settings.catalogue_path, readonly=True) as catalogue:
        _, vectors = catalogue.vectors(range(1, queries + 1))
    ids, scores = index.search(vectors, k)
    return IndexAnswers(version.name, ids.tolist(), scores.tolist())
