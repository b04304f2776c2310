"""Co-read protocol: a list is good when its articles were read by readers of the source.

Readers are split in two by a seeded hash. The engine learns from half A only: each article a
half-A reader read (history) or clicked is handed to it as one click event naming the reader,
at the time of the first impression that shows it (MIND gives no time for history reads), so
popularity and co-reading are learnt the way a live site learns them. The most-popular baseline
counts the same reads (each reader once). Relevance comes from half B only, so nothing the
engine learns sees the answers. For every half-B reader, each article they read or clicked (in the
catalogue) is a source, and the other articles they read or clicked are relevant to it; a
source's judgements are the union over all its half-B readers (binary relevance).

Half B is split again by reader, always: judgements from one part tune (``--sweep``, and the
engine's defaults were chosen on them), only those from the other are reported, so no reported
figure comes from readers anything was tuned on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation.datasets import Dataset, DatasetError, load_dataset
from evaluation.runs import Qrels
from evaluation.splits import in_first_part, seeded_sample
from evaluation.tasks import ListTask

__all__ = ["coread_task", "first_reads", "reader_sets", "run_coread"]

_HALF_SALT = "reader-half"
_TUNE_SALT = "reader-tune"


def reader_sets(dataset: Dataset) -> dict[str, set[str]]:
    """Each reader's catalogue articles: history and clicks over all their impressions."""
    known = set(dataset.ids)
    read: dict[str, set[str]] = defaultdict(set)
    for impression in dataset.impressions:
        for news_id in (*impression.history, *impression.clicked):
            if news_id in known:
                read[impression.user].add(news_id)
    return dict(read)


def first_reads(dataset: Dataset, users: set[str]) -> dict[str, dict[str, datetime]]:
    """Each of ``users``' catalogue articles in reading order, with the first time it is known
    to have been read: the time of the first impression that shows it in the history or clicks.
    """
    known = set(dataset.ids)
    read: dict[str, dict[str, datetime]] = defaultdict(dict)
    for impression in sorted(dataset.impressions, key=lambda i: i.time):
        if impression.user not in users:
            continue
        seen = read[impression.user]
        for news_id in (*impression.history, *impression.clicked):
            if news_id in known and news_id not in seen:
                seen[news_id] = impression.time
    return {user: articles for user, articles in read.items() if articles}


def _judgements(readers: Mapping[str, set[str]]) -> Qrels:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for articles in readers.values():
        if len(articles) < 2:
            continue
        for source in articles:
            for other in articles:
                if other != source:
                    qrels[source][other] = 1
    return dict(qrels)


def _sampled(qrels: Qrels, limit: int | None, seed: int) -> Qrels:
    chosen = seeded_sample(sorted(qrels), limit, seed, str)
    return {source: qrels[source] for source in chosen}


def coread_task(
    dataset: Dataset,
    seed: int,
    *,
    limit_sources: int | None = None,
    tune_limit: int | None = None,
) -> ListTask:
    """Build the co-read task of ``dataset`` (articles plus MIND impressions).

    Args:
        dataset: must hold impressions (a ``behaviors.tsv``).
        seed: decides the reader halves, the tuning and reported parts of half B, and the
            samples below.
        limit_sources: report at most this many sources, a seeded sample.
        tune_limit: tune on at most this many sources, a seeded sample.

    Raises:
        DatasetError: the dataset has no impressions.
    """
    if not dataset.impressions:
        raise DatasetError("the co-read protocol needs a MIND behaviors.tsv beside the news")
    readers = reader_sets(dataset)
    half_a = {u: s for u, s in readers.items() if in_first_part(u, seed, _HALF_SALT)}
    half_b = {u: s for u, s in readers.items() if u not in half_a}
    popularity: dict[str, float] = defaultdict(float)
    for articles in half_a.values():
        for article in articles:
            popularity[article] += 1.0
    tune_readers = {u: s for u, s in half_b.items() if in_first_part(u, seed, _TUNE_SALT)}
    report_readers = {u: s for u, s in half_b.items() if u not in tune_readers}
    qrels = _sampled(_judgements(report_readers), limit_sources, seed)
    tune_qrels = _sampled(_judgements(tune_readers), tune_limit, seed + 1)
    notes: dict[str, Any] = {
        "readers": len(readers),
        "readers_half_a_popularity": len(half_a),
        "readers_half_b_judged": len(report_readers),
        "readers_half_b_tuning": len(tune_readers),
        "articles_with_popularity": sum(1 for v in popularity.values() if v > 0),
        "relevance": "binary: read or clicked by a half-B reader of the source",
        "engine_sees": "half-A reads as click events with their reader (popularity, co-reads)",
    }
    return ListTask(
        protocol="coread",
        articles=dataset.articles,
        qrels=qrels,
        tune_qrels=tune_qrels,
        popularity=dict(popularity),
        reads=first_reads(dataset, set(half_a)),
        notes=notes,
    )


def run_coread(
    news_path: Path,
    behaviors_path: Path,
    settings_overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    *,
    ks: tuple[int, ...] = (5, 10, 20),
    out: Path | None = None,
    cache_dir: Path | None = None,
) -> dict[str, dict[str, float | None]]:
    """Run the co-read protocol and return ``{method: {figure: value}}``.

    Methods are the baselines (random, most_popular, tfidf, bm25, embedding) and newsrec's
    ``more_like_this`` and ``related`` under ``settings_overrides`` (e.g. ``{"w_pop": 0.3}``).
    Figures include ``ndcg@10``, ``precision@k``, ``recall@k``, ``hit_rate@k``, ``mrr`` and the
    beyond-accuracy ones. The evaluation home goes to ``out`` (a temporary folder if ``None``);
    embeddings are cached in ``cache_dir`` (default: ``~/.cache/newsrec-eval``).
    """
    from evaluation.harness import evaluate_list_task, temporary_out

    dataset = load_dataset([news_path, behaviors_path], label_fields=())
    task = coread_task(dataset, seed)
    with temporary_out(out) as folder:
        result = evaluate_list_task(
            task,
            out=folder,
            ks=ks,
            seed=seed,
            settings_overrides=dict(settings_overrides or {}),
            cache_dir=cache_dir,
        )
    return {name: dict(method.figures) for name, method in result.methods.items()}
