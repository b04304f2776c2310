"""The benchmark's data: real news from ``../shared/data`` and clustered synthetic growth.

Real texts come from the research corpora beside the project (MIND headlines, Reuters-21578);
without them the bundled sample corpus stands in, so the quick mode runs anywhere. Labels
(Reuters topics, MIND categories) are read only by the code that judges, never ingested.

Synthetic articles grow a real collection to 100k or 1M vectors. Uniform noise would make
recall unrealistically hard (no structure) or easy (no near neighbours), so each synthetic
vector is a blend of a real vector and another member of its k-means cluster, plus a little
noise: ``normalise(l * x_i + (1 - l) * x_j + 0.01 * g)`` with ``l ~ U(0.5, 1)``. The result has
the clusters, near-duplicates and topic overlap of news.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.ingestion.articles import embedding_text

__all__ = [
    "MIND_FILE",
    "REUTERS_FILE",
    "SAMPLE_FILE",
    "NewsText",
    "grow_vectors",
    "mind_headlines",
    "mind_leads",
    "reuters_stories",
    "sample_articles",
]

MIND_FILE = "mind_headlines.jsonl.gz"
MIND_NEWS_FILE = "mind_small_sample/news.tsv"
REUTERS_FILE = "reuters21578.jsonl.gz"
SAMPLE_FILE = Path(__file__).resolve().parents[2] / "recommender" / "sample" / "articles.jsonl"
_CLUSTERS_PER_1K = 20  # k-means clusters per thousand real vectors (about 50 members each)


@dataclass(frozen=True, slots=True)
class NewsText:
    """One real article as the benchmark uses it.

    ``labels`` (Reuters topics) are for judging only and never reach the engine.
    """

    id: str
    title: str
    body: str
    published_at: datetime | None
    split: str | None = None
    labels: frozenset[str] = frozenset()

    @property
    def text(self) -> str:
        """What newsrec embeds for it: title, then lead and body."""
        return embedding_text(self.title, self.body)

    def article(self) -> dict[str, Any]:
        """The article as ``newsrec ingest`` reads it, labels stripped."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }


def _lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mind_headlines(data: Path, limit: int | None = None) -> list[NewsText]:
    """MIND-small headlines (no bodies, no dates), in file order."""
    rows = _lines(data / MIND_FILE)[:limit]
    return [NewsText(str(r["id"]), str(r["title"]), "", None) for r in rows]


def mind_leads(data: Path) -> list[NewsText]:
    """MIND news with headline and lead (abstract), from the real ``news.tsv`` slice."""
    out = []
    with (data / MIND_NEWS_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 5 and cols[3]:
                out.append(NewsText(cols[0], cols[3], cols[4], None))
    return out


def reuters_stories(data: Path, *, with_body: bool = False) -> list[NewsText]:
    """Reuters-21578 articles in file order, with split and topics kept apart as labels."""
    out = []
    for r in _lines(data / REUTERS_FILE):
        body = r.get("body") or ""
        if with_body and not body:
            continue
        out.append(
            NewsText(
                str(r["id"]),
                str(r.get("title") or ""),
                body,
                _when(r.get("published_at")),
                r.get("split"),
                frozenset(r.get("topics") or ()),
            )
        )
    return out


def sample_articles() -> list[NewsText]:
    """The 80 fictional articles bundled with newsrec."""
    return [
        NewsText(
            str(r["id"]), str(r["title"]), str(r.get("body") or ""), _when(r.get("published_at"))
        )
        for r in _lines(SAMPLE_FILE)
    ]


def grow_vectors(real: npt.NDArray[np.float32], n: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """``n`` synthetic unit vectors shaped like ``real`` (see the module docstring)."""
    import faiss

    rng = np.random.default_rng(seed)
    count, dim = real.shape
    clusters = max(1, min(count // 40, count * _CLUSTERS_PER_1K // 1000))
    kmeans = faiss.Kmeans(dim, clusters, niter=10, seed=seed, spherical=True, verbose=False)
    kmeans.train(np.ascontiguousarray(real, dtype=np.float32))
    _, assigned = kmeans.index.search(real, 1)
    label = assigned[:, 0]
    order = np.argsort(label, kind="stable")
    starts = np.searchsorted(label[order], np.arange(clusters))
    sizes = np.bincount(label, minlength=clusters)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for begin in range(0, n, step):
        m = min(step, n - begin)
        first = rng.integers(0, count, m)
        cluster = label[first]
        # A random member of the same cluster: offset into the cluster's run of sorted rows.
        second = order[starts[cluster] + (rng.random(m) * sizes[cluster]).astype(np.int64)]
        mix = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        noise = rng.normal(0.0, 0.01, (m, dim)).astype(np.float32)
        blend = mix * real[first] + (1.0 - mix) * real[second] + noise
        out[begin : begin + m] = blend / np.linalg.norm(blend, axis=1, keepdims=True)
    return out
