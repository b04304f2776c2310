"""Co-read protocol: a list is good when its articles were read by readers of the source.

Readers are split in two by a seeded hash. The engine learns from half A only: the half-A rows
of ``behaviors.tsv`` are written into the evaluation home and recorded by the loader behind
``newsrec events`` (clicks at their impression's time, history reads as views just before the
reader's first impression; see :mod:`recommender.ingestion.mind`), so popularity and co-reading
are learnt as a site that loads the same file learns them. The most-popular baseline counts the
same reads (each reader once per article). Relevance comes from half B only, so nothing the
engine learns sees the answers; the judged moment is the log's end, and every half-A read
precedes it. For every half-B reader, each article they read or clicked (in the
catalogue) is a source, and the other articles they read or clicked are relevant to it; a
source's judgements are the union over all its half-B readers (binary relevance).

Half B is split again by reader, always: judgements from one part tune (``--sweep``, and the
engine's defaults were chosen on them), only those from the other are reported, so no reported
figure comes from readers anything was tuned on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation.config import EvaluationConfig
from evaluation.datasets import Dataset, DatasetError, load_dataset
from evaluation.protocols.base import Outcome
from evaluation.protocols.lists import run_list_task
from evaluation.reading import behaviors_log
from evaluation.runs import Qrels
from evaluation.splits import in_first_part, seeded_sample
from evaluation.sweeps import COREAD_SPACE
from evaluation.tasks import ListTask

__all__ = ["CoreadProtocol", "coread_task", "reader_sets", "run_coread"]

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
    tune_readers = {u: s for u, s in half_b.items() if in_first_part(u, seed, _TUNE_SALT)}
    report_readers = {u: s for u, s in half_b.items() if u not in tune_readers}
    qrels = _sampled(_judgements(report_readers), limit_sources, seed)
    tune_qrels = _sampled(_judgements(tune_readers), tune_limit, seed + 1)
    notes: dict[str, Any] = {
        "readers": len(readers),
        "readers_half_a_popularity": len(half_a),
        "readers_half_b_judged": len(report_readers),
        "readers_half_b_tuning": len(tune_readers),
        "relevance": "binary: read or clicked by a half-B reader of the source",
    }
    about = "half-A rows of behaviors.tsv, loaded as newsrec events loads them"
    return ListTask(
        protocol="coread",
        articles=dataset.articles,
        qrels=qrels,
        tune_qrels=tune_qrels,
        events=behaviors_log(
            dataset,
            {i.user for i in dataset.impressions if in_first_part(i.user, seed, _HALF_SALT)},
            about=about,
        ),
        notes=notes,
    )


class CoreadProtocol:
    """Readers of the source judge the lists: what else did they read?"""

    name = "coread"

    def label_fields(self, config: EvaluationConfig) -> tuple[str, ...]:
        """None: reads judge."""
        return ()

    def run(self, config: EvaluationConfig, dataset: Dataset) -> Outcome:
        """Every method on the sources of the reported half-B readers."""
        task = coread_task(
            dataset,
            config.seed,
            limit_sources=config.limit_sources,
            tune_limit=config.tune_sources,
        )
        return run_list_task(config, task, space=COREAD_SPACE)


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
